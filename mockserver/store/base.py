"""The store's interface: records by kind and key, files by hash and a queue of changes due later.

The store knows no API. A record is a JSON object stored under a kind (`"<api>:tokens"`) and a key (a tuple of
strings and integers); what the records mean, how keys are spelled and how a change applies are the APIs'
business (`mockserver/apis/`). Records are handed out as copies and changed only atomically, so a request never
sees another's half-applied update and no update is lost to a concurrent one.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from mockserver.files import Blob

# A record's key within its kind. Records whose keys differ only in the last part form a group, which can be
# listed without walking the whole kind (the NFTs of one collection, say).
Key = tuple[str | int, ...]
# A JSON object: what the store keeps and hands out.
Record = dict[str, Any]
# Records by kind, then key: what a store is seeded with, and the records an update adds beside its own.
RecordSets = Mapping[str, Mapping[Key, Record]]
# Changes a record in place; may return records to add (by kind, then key) in the same atomic step.
Change = Callable[[Record], RecordSets | None]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Seed:
    """What a store is loaded with, and what a reset goes back to."""

    records: RecordSets
    blobs: Sequence[tuple[bytes, str]] = ()  # (data, media type)
    # The source of the records as text (the fixtures as JSON), which a store shared by several processes keeps
    # so each can tell what a reset restores. Made only then: a store in memory keeps the seed itself (and
    # fixtures may hold what JSON cannot, such as YAML dates). The store never reads it.
    document: Callable[[], str] = dataclasses.field(default=lambda: "", compare=False)


class Scheduled(NamedTuple):
    """A change to the record `key` (of the queue's kind) to apply from `due` on; `change` is JSON.

    A named tuple rather than a frozen dataclass: a 250-item refresh makes 250, and a frozen dataclass's
    `__init__` cost several times a tuple's."""

    due: float
    key: Key
    change: Record


# Applies a due change: the record as it stands (None when there is none yet) to the record to store. It may
# change the record it is given.
ApplyDue = Callable[[Record | None, Scheduled], Record]


class Blobs(Protocol):
    """Uploaded files by content hash (`files.BlobStore` in memory)."""

    def put(self, data: bytes, content_type: str) -> str: ...

    def get(self, key: str) -> Blob | None: ...

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


def copy_record(record: Record) -> Record:
    """A deep copy of a record: several times faster than `copy.deepcopy`, which walks every object's type."""
    copied: Record = _copy_json(record)
    return copied


def _copy_json(value: Any) -> Any:
    # The exact scalar types are kept without a call for each: most of a record is its leaves.
    if type(value) is dict:
        return {key: item if type(item) in _ATOMS else _copy_json(item) for key, item in value.items()}
    if type(value) is list:
        return [item if type(item) in _ATOMS else _copy_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value if isinstance(value, _SCALARS) else copy.deepcopy(value)  # a YAML date in fixtures, say


_SCALARS = (str, int, float, bool, type(None))
_ATOMS = frozenset(_SCALARS)


_DUE = operator.attrgetter("due")


def split_due(changes: Iterable[Scheduled], now: float) -> tuple[list[Scheduled], list[Scheduled]]:
    """The changes due by `now`, in the order `apply_due` would take them from a queue (by due time, then as
    given: a stable sort), and the others, as given."""
    due: list[Scheduled] = []
    later: list[Scheduled] = []
    for scheduled in changes:
        (due if scheduled.due <= now else later).append(scheduled)
    due.sort(key=_DUE)  # all of a refresh's items are due at once
    return due, later


class Store(abc.ABC):
    """Every record of every API plus uploaded files."""

    blobs: Blobs

    @property
    @abc.abstractmethod
    def seed(self) -> Seed:
        """What the records were last loaded from (by any worker, for a shared store)."""

    @abc.abstractmethod
    def load(self, seed: Seed) -> None:
        """Replace every record, queued change and file with a fresh copy of `seed` (used on reset)."""

    @abc.abstractmethod
    def ensure_loaded(self) -> None:
        """Load the seed again if the state vanished underneath (a shared store restarted empty); raise
        `StoreUnavailable` if the store does not answer."""

    @abc.abstractmethod
    def get(self, kind: str, key: Key) -> Record | None:
        """A copy of one record, or None."""

    @abc.abstractmethod
    def has(self, kind: str, key: Key) -> bool:
        """Whether there is such a record (without copying it, as `get` would)."""

    @abc.abstractmethod
    def items(self, kind: str, group: Key | None = None) -> list[tuple[Key, Record]]:
        """Copies of the records of a kind (only those whose key is `group` plus one part, if given), by key."""

    @abc.abstractmethod
    def update(self, kind: str, key: Key, change: Change) -> Record | None:
        """Apply `change` to a copy of the record and store the result and the records it returns, atomically.

        `change` may run more than once (when a concurrent update wins the race it runs again on that result), so
        it must do nothing but change the record it is given (storing blobs, which is idempotent, is fine); an
        exception from it stores nothing. Returns the record as stored, or None when there is no such record.
        """

    def change(self, kind: str, key: Key, change: Change) -> bool:
        """`update`, for a caller that needs only whether the record exists: a store that can, skips the copy
        of the stored record `update` hands back."""
        return self.update(kind, key, change) is not None

    @abc.abstractmethod
    def schedule(self, kind: str, changes: Iterable[Scheduled]) -> None:
        """Queue changes to records of `kind`; among changes due at the same time, the earlier queued applies first."""

    @abc.abstractmethod
    def apply_due(self, kind: str, now: float, apply: ApplyDue) -> None:
        """Apply every queued change to `kind` due by `now`, in order of due time, each exactly once."""

    def schedule_and_apply(self, kind: str, changes: Iterable[Scheduled], *, now: float, apply: ApplyDue) -> None:
        """`schedule(kind, changes)`, then `apply_due(kind, now, apply)`: a store that can apply the changes due
        at once without queueing them first does so, with the same outcome."""
        self.schedule(kind, changes)
        self.apply_due(kind, now, apply)

    def get_applied(self, kind: str, key: Key, *, now: float, apply: ApplyDue) -> Record | None:
        """`apply_due(kind, now, apply)`, then `get(kind, key)`: a store that can tell and read at once whether
        anything is due does so, with the same outcome."""
        self.apply_due(kind, now, apply)
        return self.get(kind, key)

    @abc.abstractmethod
    def pending(self, kind: str) -> int:
        """How many changes to `kind` are queued."""


class SeedView(Generic[T]):
    """Something made from the store's seed (a lookup table of records no update changes), made again only when
    a load (by any worker) replaced the seed, so a per-request lookup neither copies records nor asks the store."""

    def __init__(self, store: Store, make: Callable[[Seed], T]) -> None:
        self._store = store
        self._make = make
        self._made: tuple[Seed, T] | None = None

    def get(self) -> T:
        seed = self._store.seed
        if self._made is None or self._made[0] is not seed:
            self._made = (seed, self._make(seed))
        return self._made[1]
