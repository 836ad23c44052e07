"""The store in this process, behind one lock: the default, for one worker.

Queued changes wait in a heap per kind and are applied on the first `apply_due` after their time (no background
task, so a manual clock controls them).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterable

from mockserver.files import BlobStore
from mockserver.store.base import ApplyDue, Change, Key, Record, Scheduled, Seed, Store, copy_record, split_due


class MemoryStore(Store):
    """Everything in this process, behind one lock."""

    def __init__(self, seed: Seed) -> None:
        self._lock = threading.RLock()
        self.blobs = BlobStore()
        self.load(seed)

    @property
    def seed(self) -> Seed:
        return self._seed

    def ensure_loaded(self) -> None:
        """Nothing outside this process can empty it, and it always answers."""

    def load(self, seed: Seed) -> None:
        records = {kind: {key: copy_record(record) for key, record in table.items()}
                   for kind, table in seed.records.items()}
        with self._lock:
            self._seed = seed
            self.blobs.clear()
            for data, content_type in seed.blobs:
                self.blobs.put(data, content_type)
            self._tables: dict[str, dict[Key, Record]] = records
            # The keys of each group (all parts but the last), so listing a group does not scan the whole kind.
            self._groups: dict[str, dict[Key, set[Key]]] = {}
            for kind, table in records.items():
                for key in table:
                    self._index(kind, key)
            # A heap per kind by due time (then arrival), so applying what is due never scans what is not.
            self._queues: dict[str, list[tuple[float, int, Scheduled]]] = {}
            self._arrivals = itertools.count()

    def get(self, kind: str, key: Key) -> Record | None:
        with self._lock:
            record = self._tables.get(kind, {}).get(key)
            return copy_record(record) if record is not None else None

    def has(self, kind: str, key: Key) -> bool:
        with self._lock:
            return key in self._tables.get(kind, {})

    def items(self, kind: str, group: Key | None = None) -> list[tuple[Key, Record]]:
        with self._lock:
            table = self._tables.get(kind, {})
            keys = self._groups.get(kind, {}).get(group, set()) if group is not None else table.keys()
            return [(key, copy_record(table[key])) for key in sorted(keys)]

    def update(self, kind: str, key: Key, change: Change) -> Record | None:
        with self._lock:
            stored = self._update(kind, key, change)
            return copy_record(stored) if stored is not None else None

    def change(self, kind: str, key: Key, change: Change) -> bool:
        with self._lock:
            return self._update(kind, key, change) is not None

    def _update(self, kind: str, key: Key, change: Change) -> Record | None:
        """The record as stored after `change`, not a copy: only for the lock holder to copy or let go."""
        stored = self._tables.get(kind, {}).get(key)
        if stored is None:
            return None
        record = copy_record(stored)
        added = change(record)
        self._tables[kind][key] = record
        for added_kind, added_records in (added or {}).items():
            for added_key, added_record in added_records.items():
                self._put(added_kind, added_key, copy_record(added_record))
        return record

    def schedule(self, kind: str, changes: Iterable[Scheduled]) -> None:
        with self._lock:
            queue = self._queues.setdefault(kind, [])
            for scheduled in changes:
                heapq.heappush(queue, (scheduled.due, next(self._arrivals), scheduled))

    def apply_due(self, kind: str, now: float, apply: ApplyDue) -> None:
        with self._lock:
            self._apply_due(kind, now, apply)

    def schedule_and_apply(self, kind: str, changes: Iterable[Scheduled], *, now: float, apply: ApplyDue) -> None:
        with self._lock:
            # As `schedule`, then `apply_due`, but the changes due by now are never queued: they and the queued
            # ones due by now apply by due time, queued ones first among equals (they came first), then arrival.
            due, later = split_due(changes, now)
            queue = self._queues.get(kind)
            for scheduled in due:
                while queue and queue[0][0] <= scheduled.due:
                    self._apply(kind, heapq.heappop(queue)[2], apply)
                self._apply(kind, scheduled, apply)
            self._apply_due(kind, now, apply)
            if later:
                self.schedule(kind, later)

    def _apply_due(self, kind: str, now: float, apply: ApplyDue) -> None:
        queue = self._queues.get(kind)
        while queue and queue[0][0] <= now:
            self._apply(kind, heapq.heappop(queue)[2], apply)

    def _apply(self, kind: str, scheduled: Scheduled, apply: ApplyDue) -> None:
        table = self._tables.get(kind)
        if table is None:
            table = self._tables[kind] = {}
        # The stored record itself, not a copy: nothing else can see it while the lock is held.
        record = table.get(scheduled.key)
        if record is None:
            self._index(kind, scheduled.key)
        table[scheduled.key] = apply(record, scheduled)

    def pending(self, kind: str) -> int:
        with self._lock:
            return len(self._queues.get(kind, ()))

    def _put(self, kind: str, key: Key, record: Record) -> None:
        table = self._tables.setdefault(kind, {})
        if key not in table:
            self._index(kind, key)
        table[key] = record

    def _index(self, kind: str, key: Key) -> None:
        self._groups.setdefault(kind, {}).setdefault(key[:-1], set()).add(key)

    def __repr__(self) -> str:
        with self._lock:
            counts = ", ".join(f"{kind}={len(table)}" for kind, table in self._tables.items())
        return f"MemoryStore({counts}, blobs={len(self.blobs)})"
