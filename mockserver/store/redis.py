"""The store in Redis: one state shared by every worker process and host that names the same URL and prefix.

Every key lives under the prefix (`mockserver:` by default):

| key | type | holds |
|---|---|---|
| `seed`, `generation` | string | the seed as JSON (what a reset goes back to); a new id per load |
| `kinds` | set | every kind of record the namespace holds (so a load can remove them all) |
| `records:<kind>` | hash | the records of a kind, JSON by their key as a JSON list |
| `queue:<kind>`, `queue-seq` | sorted set, counter | queued changes scored by due time; their order of arrival |
| `blobs` | hash | uploaded files by SHA-256: the media type, a NUL byte, the bytes |

Updates read, change and write a record inside WATCH/MULTI/EXEC and start again if another process wrote the
record's kind meanwhile, so concurrent updates from different processes are all applied. Due changes are
applied the same way, by whichever reader first finds them due.

While Redis does not answer, every method raises `StoreUnavailable` (each API answers 503 with `Retry-After`),
after a short retry that rides out a blip without holding a request for seconds. When Redis comes back empty
(restarted without persistence), `ensure_loaded`, run before each request, loads the seed again.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.client import Pipeline
from redis.retry import Retry

from mockserver.errors import ConfigError, StoreUnavailable
from mockserver.files import Blob, digest
from mockserver.settings import redact_url
from mockserver.store.base import ApplyDue, Change, Key, Record, RecordSets, Scheduled, Seed, Store, split_due

T = TypeVar("T")
DEFAULT_PREFIX = "mockserver:"
logger = logging.getLogger("mockserver")
# redis-py's default retries for seconds (10 times, backoff up to 1 s) before failing: a request would hang
# that long while Redis is down. Two quick retries ride out a dropped connection, then the client hears 503.
# A timeout is not retried: a Redis that stops answering (paused, overloaded, cut off by a firewall) would
# otherwise hold each request for three timeouts instead of one.
RETRY = Retry(ExponentialBackoff(cap=0.05, base=0.01), 2, supported_errors=(redis.ConnectionError,))
# Every Redis call blocks the event loop, so while Redis stops answering nothing else (health, the page, other
# requests) is served either: one second is long next to Redis's sub-millisecond answers, short for a stalled
# server. The URL may say otherwise (`?socket_timeout=5&socket_connect_timeout=5`): redis-py lets the URL's
# query override these.
SOCKET_TIMEOUT = 1.0
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
# The dunder methods through which the blob store reaches Redis.
_REDIS_DUNDERS = frozenset({"__len__", "__repr__"})


def _unavailable_as_store_error(cls: type[T]) -> type[T]:
    """Every public method and property of `cls` raises `StoreUnavailable` instead of redis-py's connection
    errors, so the web layer (which never imports redis) can answer 503 for all of them in one place."""

    def translated(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except UNREACHABLE as exc:
                raise StoreUnavailable(f"Redis does not answer: {exc}") from exc

        return wrapper

    for name, member in list(vars(cls).items()):
        if name.startswith("_") and name not in _REDIS_DUNDERS:
            continue
        if isinstance(member, property) and member.fget is not None:
            setattr(cls, name, property(translated(member.fget), doc=member.__doc__))
        elif callable(member):
            setattr(cls, name, translated(member))
    return cls


class _Keys:
    """The Redis key names of one namespace."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seed = f"{prefix}seed"
        self.generation = f"{prefix}generation"
        self.kinds = f"{prefix}kinds"
        self.queue_seq = f"{prefix}queue-seq"
        self.blobs = f"{prefix}blobs"

    def records(self, kind: str) -> str:
        return f"{self.prefix}records:{kind}"

    def queue(self, kind: str) -> str:
        return f"{self.prefix}queue:{kind}"

    def fixed(self) -> list[str]:
        return [self.seed, self.generation, self.kinds, self.queue_seq, self.blobs]

    def of_kinds(self, kinds: Iterable[str]) -> list[str]:
        return [key for kind in kinds for key in (self.records(kind), self.queue(kind))]


@_unavailable_as_store_error
class RedisStore(Store):
    """Every record and uploaded file, in Redis under a key prefix."""

    def __init__(self, seed: Seed, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        try:
            self._redis = redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT,
                                               socket_timeout=SOCKET_TIMEOUT, retry=RETRY)
        except ValueError as exc:  # a query value redis-py cannot parse (`?db=x`)
            raise ConfigError(f"store {redact_url(url)!r} is not usable: {exc}") from exc
        self._keys = _Keys(prefix)
        self.blobs = RedisBlobStore(self._redis, self._keys.blobs)
        self._own_seed = seed
        self._cached: tuple[bytes, Seed] | None = None
        try:
            # A namespace another worker (or an earlier run) filled keeps its state.
            self._write(seed, only_if_empty=True)
        except (redis.RedisError, TypeError) as exc:
            # TypeError: redis-py hands a URL's unknown query parameters (`?foo=bar`) to its connection class,
            # which refuses them only when the first connection is made, here.
            raise ConfigError(f"store {redact_url(url)!r} is not usable: {exc}") from exc

    @property
    def seed(self) -> Seed:
        generation = self._redis.get(self._keys.generation)
        if generation is None:  # the namespace was emptied behind our back
            return self._own_seed
        if self._cached is None or self._cached[0] != generation:
            generation, document = self._redis.mget([self._keys.generation, self._keys.seed])
            if generation is None or document is None:
                return self._own_seed
            self._cached = (_bytes(generation), seed_from_json(document))
        return self._cached[1]

    def load(self, seed: Seed) -> None:
        self._write(seed, only_if_empty=False)

    def ensure_loaded(self) -> None:
        # One EXISTS per request, beside the several round trips each API request makes anyway. Checking only
        # when a connection is re-established would answer the first requests after a restart from an empty
        # namespace (the reconnect happens inside them), which is the 401/404 this check exists to prevent.
        if self._redis.exists(self._keys.seed):
            return
        # The seed last seen here (possibly loaded by another worker through the admin API), else our own.
        seed = self._cached[1] if self._cached is not None else self._own_seed
        if self._write(seed, only_if_empty=True):
            logger.warning("store %s under %r was empty (Redis restarted without persistence?): fixtures loaded "
                           "again", redact_url(self.url), self.prefix)

    def namespace_keys(self) -> list[str]:
        """Every key this store writes (all under its prefix)."""
        kinds = [_bytes(kind).decode() for kind in self._redis.smembers(self._keys.kinds)]
        return self._keys.fixed() + self._keys.of_kinds(kinds)

    def _write(self, seed: Seed, *, only_if_empty: bool) -> bool:
        k = self._keys

        def write(pipe: Pipeline) -> bool:
            if only_if_empty and pipe.exists(k.seed):
                return False
            old_kinds = [_bytes(kind).decode() for kind in pipe.smembers(k.kinds)]
            pipe.multi()
            pipe.delete(*k.fixed(), *k.of_kinds(old_kinds))
            pipe.set(k.seed, seed_to_json(seed))
            pipe.set(k.generation, uuid.uuid4().hex)
            _add_records(pipe, k, seed.records)
            _hset(pipe, k.blobs, {digest(data): _blob_value(content_type, data) for data, content_type in seed.blobs})
            return True

        return self._atomic(write, k.seed, k.kinds)

    def _atomic(self, func: Callable[[Pipeline], T], *watches: str) -> T:
        """Run `func` (reads, then `pipe.multi()` and writes) until no watched key changed before it was applied."""
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*watches)  # type: ignore[no-untyped-call]
                    result = func(pipe)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def get(self, kind: str, key: Key) -> Record | None:
        raw = self._redis.hget(self._keys.records(kind), _field(key))
        found: Record | None = json.loads(raw) if raw is not None else None
        return found

    def has(self, kind: str, key: Key) -> bool:
        return bool(self._redis.hexists(self._keys.records(kind), _field(key)))

    def items(self, kind: str, group: Key | None = None) -> list[tuple[Key, Record]]:
        raw = self._redis.hgetall(self._keys.records(kind))
        keyed = [(_key(field), json.loads(value)) for field, value in raw.items()]
        if group is not None:
            keyed = [(key, record) for key, record in keyed if key[:-1] == group]
        return sorted(keyed, key=lambda item: item[0])

    def update(self, kind: str, key: Key, change: Change) -> Record | None:
        records, field = self._keys.records(kind), _field(key)

        def update(pipe: Pipeline) -> Record | None:
            raw = pipe.hget(records, field)
            if raw is None:
                return None
            record: Record = json.loads(raw)
            added = change(record)
            pipe.multi()
            pipe.hset(records, field, _dump(record))
            if added:
                _add_records(pipe, self._keys, added)
            return record

        return self._atomic(update, records)

    def schedule(self, kind: str, changes: Iterable[Scheduled]) -> None:
        queued = list(changes)
        if not queued:
            return
        # Members are unique and sort in order of arrival among changes due at the same time.
        first = int(self._redis.incrby(self._keys.queue_seq, len(queued))) - len(queued)
        with self._redis.pipeline() as pipe:
            pipe.sadd(self._keys.kinds, kind)
            pipe.zadd(self._keys.queue(kind), {
                f"{first + n:020d} {_dump(_scheduled_json(scheduled))}": scheduled.due
                for n, scheduled in enumerate(queued)
            })
            pipe.execute()

    def schedule_and_apply(self, kind: str, changes: Iterable[Scheduled], *, now: float, apply: ApplyDue) -> None:
        # With nothing queued due by now (a refresh with no delay, in the usual case), the changes due now are
        # applied in one transaction, without a trip through the queue: four round trips rather than seven.
        due, later = split_due(changes, now)
        if not due:
            super().schedule_and_apply(kind, later, now=now, apply=apply)
            return
        queue, records = self._keys.queue(kind), self._keys.records(kind)

        def apply_now(pipe: Pipeline) -> bool:
            if pipe.zcount(queue, "-inf", now):  # queued changes due first: the queue's order decides
                return False
            applied = _applied(pipe, records, due, apply)
            pipe.multi()
            pipe.sadd(self._keys.kinds, kind)  # so that a load or reset finds the records of a kind new to the store
            _hset(pipe, records, applied)
            return True

        if self._atomic(apply_now, queue, records):
            self.schedule(kind, later)
        else:
            super().schedule_and_apply(kind, [*due, *later], now=now, apply=apply)

    def apply_due(self, kind: str, now: float, apply: ApplyDue) -> None:
        queue, records = self._keys.queue(kind), self._keys.records(kind)
        if not self._redis.zcount(queue, "-inf", now):
            return

        def apply_all(pipe: Pipeline) -> None:
            members: list[bytes] = pipe.zrangebyscore(queue, "-inf", now)  # type: ignore[assignment]
            if not members:
                return
            # Sorted by due time, then order of arrival (the sequence number that starts each member).
            applied = _applied(pipe, records, [_scheduled_from(member) for member in members], apply)
            pipe.multi()
            pipe.zrem(queue, *members)
            _hset(pipe, records, applied)

        self._atomic(apply_all, queue, records)

    def get_applied(self, kind: str, key: Key, *, now: float, apply: ApplyDue) -> Record | None:
        # How many queued changes are due, and the record, in one round trip: nothing is due on most reads.
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcount(self._keys.queue(kind), "-inf", now)
            pipe.hget(self._keys.records(kind), _field(key))
            due, raw = pipe.execute()
        if due:
            return super().get_applied(kind, key, now=now, apply=apply)
        found: Record | None = json.loads(raw) if raw is not None else None
        return found

    def pending(self, kind: str) -> int:
        return int(self._redis.zcard(self._keys.queue(kind)))

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        kinds = sorted(_bytes(kind).decode() for kind in self._redis.smembers(self._keys.kinds))
        counts = "".join(f", {kind}={int(self._redis.hlen(self._keys.records(kind)))}" for kind in kinds)
        return f"RedisStore(url={redact_url(self.url)!r}, prefix={self.prefix!r}{counts}, blobs={len(self.blobs)})"


def _applied(pipe: Pipeline, records: str, due: Sequence[Scheduled], apply: ApplyDue) -> dict[str, str]:
    """The records `due` names, read through `pipe` (which watches them), with each change applied in order: the
    JSON to write back, by field."""
    fields = sorted({_field(scheduled.key) for scheduled in due})
    current: dict[str, Record | None] = {
        f: json.loads(raw) if raw is not None else None
        for f, raw in zip(fields, pipe.hmget(records, fields), strict=True)}
    for scheduled in due:
        field = _field(scheduled.key)
        current[field] = apply(current[field], scheduled)
    return {f: _dump(record) for f, record in current.items() if record is not None}


@_unavailable_as_store_error
class RedisBlobStore:
    """Files by SHA-256 of their content in one Redis hash; storing the same bytes twice keeps one copy."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._redis = client
        self._key = key

    def put(self, data: bytes, content_type: str) -> str:
        key = digest(data)
        self._redis.hsetnx(self._key, key, _blob_value(content_type, data))
        return key

    def get(self, key: str) -> Blob | None:
        raw = self._redis.hget(self._key, key)
        if raw is None:
            return None
        content_type, _, data = _bytes(raw).partition(b"\0")
        return Blob(content_type.decode(), data)

    def clear(self) -> None:
        self._redis.delete(self._key)

    def __len__(self) -> int:
        return int(self._redis.hlen(self._key))



# Encoding


def seed_to_json(seed: Seed) -> str:
    """A seed as JSON (keys as lists, bytes in base64), for `seed_from_json`."""
    return _dump({
        "document": seed.document(),
        "records": {kind: [[list(key), record] for key, record in table.items()]
                    for kind, table in seed.records.items()},
        "blobs": [[base64.b64encode(data).decode(), content_type] for data, content_type in seed.blobs],
    })


def seed_from_json(document: str | bytes) -> Seed:
    raw = json.loads(document)
    source: str = raw["document"]
    return Seed(
        records={kind: {tuple(key): record for key, record in table} for kind, table in raw["records"].items()},
        blobs=[(base64.b64decode(data), content_type) for data, content_type in raw["blobs"]],
        document=lambda: source,
    )


def _add_records(pipe: Pipeline, keys: _Keys, records: RecordSets) -> None:
    if records:
        pipe.sadd(keys.kinds, *records)
    for kind, table in records.items():
        _hset(pipe, keys.records(kind), {_field(key): _dump(record) for key, record in table.items()})


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _field(key: Key) -> str:
    """A record's hash field: its key as a compact JSON list."""
    return _dump(list(key))


def _key(field: bytes | str) -> Key:
    return tuple(json.loads(field))


def _scheduled_json(scheduled: Scheduled) -> dict[str, Any]:
    return {"due": scheduled.due, "key": list(scheduled.key), "change": scheduled.change}


def _scheduled_from(member: bytes) -> Scheduled:
    _, _, document = member.partition(b" ")
    raw = json.loads(document)
    return Scheduled(raw["due"], tuple(raw["key"]), raw["change"])


def _blob_value(content_type: str, data: bytes) -> bytes:
    return content_type.encode() + b"\0" + data


def _hset(pipe: Pipeline, key: str, mapping: Mapping[str, str | bytes]) -> None:
    if mapping:  # HSET refuses an empty mapping
        fields: dict[Any, Any] = dict(mapping)
        pipe.hset(key, mapping=fields)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
