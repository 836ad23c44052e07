"""Rate limiting on the `limits` library, with the mock's clock driving the in-memory storage.

`limits` reads `time.time()` directly, so tests could not move its windows without sleeping. `ClockedMemoryStorage`
overrides exactly the storage methods that read the time (and drops the background expiry timer, since expiry is
also checked on every read), and adds `spend`, its `incr` and `get_expiry` in one step for the limiter's hot path.
Any other storage URI (`redis://...`) is handed to `limits` as is and keeps its server's time; a Redis storage's
keys go under the limiter's key prefix, and its check-then-spend step is atomic in Redis (one script for a fixed
window, a Redis lock for a sliding one), so the quota is exact across processes sharing it. While a shared storage
does not answer, the limiter raises `StoreUnavailable` (the API answers 503) rather than a 500.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple, get_args
from urllib.parse import urlsplit

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from mockserver.clock import Clock
from mockserver.errors import ConfigError, StoreUnavailable
from mockserver.settings import RateLimitSettings, Strategy, redact_url


class Quota(NamedTuple):
    """What a key may still spend: the limit, what remains, and when the window resets (epoch seconds).

    A named tuple: every refresh makes one, and a frozen dataclass's `__init__` costs 1.6 times as much."""

    limit: int
    remaining: int
    reset: float

    def seconds_to_reset(self, now: float) -> int:
        """Whole seconds until the window resets, never less than 1 (a client must wait at least that)."""
        return max(1, math.ceil(self.reset - now))


class QuotaLimiter:
    """One limit applied per key (a project, a credential) with a configurable strategy and storage."""

    def __init__(self, settings: RateLimitSettings, clock: Clock, *, key_prefix: str | None = None) -> None:
        self.settings = settings
        self._clock = clock
        # Each strategy counts under keys of its own: a fixed window's counter and a sliding window's entries are
        # different Redis types, and a strategy changed while the server runs would find the other's (WRONGTYPE).
        self._key_prefix = key_prefix
        self._storage = make_storage(settings.storage, clock, key_prefix=(
            f"{key_prefix}:{settings.strategy}" if key_prefix is not None else None))
        strategy: type[RateLimiter] = (
            MovingWindowRateLimiter if settings.strategy == "sliding-window" else FixedWindowRateLimiter
        )
        self._strategy = strategy(self._storage)
        self._item = _KeyedPerSecond(settings.limit, settings.window)
        self._expiry = self._item.get_expiry()
        # What the storage raises when its server is unreachable (memory raises none of that kind).
        self._faults: type[Exception] | tuple[type[Exception], ...] = (
            () if isinstance(self._storage, MemoryStorage) else self._storage.base_exceptions)
        # A fixed window in this process's memory: a hit is one count (see `_hit_counter`).
        self._counter = (self._storage if isinstance(self._storage, ClockedMemoryStorage)
                         and strategy is FixedWindowRateLimiter else None)
        # A fixed window in Redis: a hit is one script (see `_hit_script`).
        self._spend_script = (self._storage.get_connection().register_script(_SPEND_IF_AFFORDABLE)
                              if isinstance(self._storage, RedisStorage) and strategy is FixedWindowRateLimiter
                              else None)
        # Acceptance and the stats that go into its headers must be one step, or two concurrent hits
        # could both report the same remaining count.
        self._lock = threading.Lock()

    def hit(self, key: str, cost: int = 1) -> tuple[bool, Quota]:
        """Spend `cost` from the key's quota if it can all be spent; return whether it was, and the quota after."""
        if self._faults:
            if self._spend_script is not None:
                with self._reachable():
                    return self._hit_script(self._spend_script, key, cost)
            with self._reachable(), self._lock, self._shared_lock(key):
                return self._hit(key, cost)
        with self._lock:  # every refresh comes here: no context managers that only matter for a shared storage
            if self._counter is not None:
                return self._hit_counter(self._counter, key, cost)
            return self._hit(key, cost)

    def _hit(self, key: str, cost: int) -> tuple[bool, Quota]:
        # limits' fixed window counts a refused hit too; a refused request must cost nothing.
        accepted = (self._strategy.test(self._item, key, cost=cost)
                    and self._strategy.hit(self._item, key, cost=cost))
        return accepted, self._quota(key)

    def _hit_counter(self, storage: ClockedMemoryStorage, key: str, cost: int) -> tuple[bool, Quota]:
        """`_hit` for a fixed window in memory, from the counter `spend` returns: the strategy's test, hit and
        window stats read it four times, a fifth of a 1-item refresh's handler. Under `self._lock`, so the
        refused hit's count, taken back at once, is never seen."""
        item = self._item
        name = item.key_for(key)
        if cost > item.amount:  # never affordable: counted and taken back, it would start a window
            return False, self._quota_of(storage.get(name), storage.get_expiry(name))
        count, reset = storage.spend(name, self._expiry, cost)
        accepted = count <= item.amount
        if not accepted:
            count = storage.decr(name, cost)
        return accepted, self._quota_of(count, reset)

    def _hit_script(self, script: Any, key: str, cost: int) -> tuple[bool, Quota]:
        """`_hit` for a fixed window in Redis, in one round trip: the strategy's test, `limits`' increment script and
        the window's stats, under a lock held across processes, took six. The script is atomic in Redis, so two
        workers spending at once still spend exactly the quota."""
        name = self._storage.prefixed_key(self._item.key_for(key))  # type: ignore[attr-defined]  # a RedisStorage
        accepted, count, ttl = script(keys=[name], args=[self._expiry, cost, self._item.amount])
        # As `limits`' Redis storage reckons a window's end: its key's whole seconds to live, from this host's time.
        return bool(accepted), self._quota_of(int(count), max(int(ttl), 0) + time.time())

    def peek(self, key: str) -> Quota:
        """The key's quota now, spending nothing."""
        with self._reachable(), self._lock:
            return self._quota(key)

    def reset(self) -> None:
        """Forget every key's spending."""
        with self._reachable(), self._lock:
            if isinstance(self._storage, RedisStorage) and self._key_prefix is not None:
                # Every strategy's keys (`limits`' own reset covers only this one's), not the locks beside them: a
                # strategy switched back after a reset must not find what was spent before it.
                for strategy in get_args(Strategy):
                    self._storage.lua_clear_keys([f"{self._key_prefix}:{strategy}:*"])
            else:
                self._storage.reset()

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except self._faults as exc:
            raise StoreUnavailable(f"the rate-limit storage does not answer: {exc}") from exc

    def _shared_lock(self, key: str) -> contextlib.AbstractContextManager[Any]:
        """The key's lock across every process using the storage (Redis), or nothing for this process's own."""
        if not isinstance(self._storage, RedisStorage):
            return contextlib.nullcontext()
        # Outside the storage's own `prefix:*` keys, so a reset elsewhere never deletes a lock someone holds.
        name = f"{self._storage.key_prefix}-lock:{key}"
        client: Any = self._storage.get_connection()
        lock: contextlib.AbstractContextManager[Any] = client.lock(name, timeout=10, sleep=0.002, blocking_timeout=10)
        return lock

    def _quota(self, key: str) -> Quota:
        stats = self._strategy.get_window_stats(self._item, key)
        return self._quota_of(self.settings.limit - stats.remaining, stats.reset_time)

    def _quota_of(self, spent: int, reset: float) -> Quota:
        now = self._clock.time()
        # An untouched key reports its reset as "now"; a client reads that as a window starting with its request.
        return Quota(limit=self.settings.limit, remaining=max(0, self.settings.limit - spent),
                     reset=reset if reset > now else now + self.settings.window)

    def __repr__(self) -> str:
        s = self.settings
        return (f"QuotaLimiter(limit={s.limit}, window={s.window}, strategy={s.strategy!r}, "
                f"storage={redact_url(s.storage)!r})")


# `limits`' fixed window in Redis (its `incr_expire.lua`: count up, and start the window's expiry with the first
# count) spending only what the window can afford, and answering with the count and the window's seconds to live.
_SPEND_IF_AFFORDABLE = b"""
local count = tonumber(redis.call("get", KEYS[1]) or "0")
local amount = tonumber(ARGV[2])
local accepted = 0
if count + amount <= tonumber(ARGV[3]) then
    count = redis.call("incrby", KEYS[1], amount)
    if tonumber(count) == amount then
        redis.call("expire", KEYS[1], ARGV[1])
    end
    accepted = 1
end
return {accepted, count, redis.call("ttl", KEYS[1])}
"""


class _KeyedPerSecond(RateLimitItemPerSecond):
    """`limits`' per-second item, remembering the storage key of each identifier: a hit builds the same key
    four times (test, hit, and the window's two stats), a fifth of a 1-item refresh's handler."""

    __slots__ = ("_keys",)
    _MAX_KEYS = 4096  # identifiers are projects and client addresses: bounded, however many clients come

    def __init__(self, amount: int, multiples: int) -> None:
        super().__init__(amount, multiples)
        self._keys: dict[tuple[bytes | str | int | float, ...], str] = {}

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        key = self._keys.get(identifiers)
        if key is None:
            if len(self._keys) >= self._MAX_KEYS:
                self._keys.clear()
            key = self._keys[identifiers] = super().key_for(*identifiers)
        return key


def make_storage(uri: str, clock: Clock, *, key_prefix: str | None = None) -> Storage:
    """The `limits` storage for a URI; `memory://` gets the clock-driven variant, Redis ones `key_prefix`."""
    if uri.startswith("memory://"):
        return ClockedMemoryStorage(clock)
    options: dict[str, Any] = {}
    if urlsplit(uri).scheme in ("redis", "rediss", "redis+unix"):
        from mockserver.store.redis import RETRY, SOCKET_TIMEOUT  # a redis:// URI means redis is installed

        # As the store: fail fast while Redis is down or stalled, not after seconds of retries or timeouts.
        options.update(retry=RETRY, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)
    if key_prefix is not None and urlsplit(uri).scheme.startswith(("redis", "valkey")):
        options["key_prefix"] = key_prefix
    try:
        storage = storage_from_string(uri, **options)
    except Exception as exc:  # limits raises ConfigurationError or ImportError depending on the scheme
        # `limits` repeats the URI, password and all, in some of its messages.
        reason = str(exc).replace(uri, redact_url(uri))
        raise ConfigError(f"rate-limit storage {redact_url(uri)!r} is not usable: {reason}") from exc
    if not isinstance(storage, Storage):
        raise ConfigError(f"rate-limit storage {redact_url(uri)!r} is an async storage; use its synchronous scheme")
    return storage


@dataclasses.dataclass(frozen=True)
class _Entry:
    atime: float
    expiry: float


class ClockedMemoryStorage(MemoryStorage):
    """`limits`'s memory storage reading time from a `Clock` instead of `time.time()`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        super().__init__()
        self.timer.cancel()

    def _MemoryStorage__schedule_expiry(self) -> None:
        """Expiry happens on read (see `get`); no timer thread reading the wall clock."""

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self.spend(key, expiry, amount)[0]

    def spend(self, key: str, expiry: float, amount: int) -> tuple[int, float]:
        """`incr`, then `get_expiry`, as one step with one reading of the clock: the count after and when the
        window ends. Not one of the methods `limits` wraps in its error translation (a memory storage raises
        none), so a 1-item refresh spends a third of what the two calls cost."""
        now = self._clock.time()
        self._forget_if_expired(key, now)
        with self.locks[key]:
            count = self.storage[key] = self.storage[key] + amount
            if count == amount:
                self.expirations[key] = now + expiry
            return count, self.expirations[key]

    def get(self, key: str) -> int:
        self._forget_if_expired(key, self._clock.time())
        return self.storage.get(key, 0)

    def _forget_if_expired(self, key: str, now: float) -> None:
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)

    def get_expiry(self, key: str) -> float:
        return self.expirations.get(key, self._clock.time())

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self.locks[key]:
            now = self._clock.time()
            events: list[Any] = self.events.setdefault(key, [])
            # Entries are newest first; drop the ones the window has left behind.
            del events[bisect.bisect_left(events, -(now - expiry), key=lambda e: -e.atime):]
            if len(events) + amount > limit:
                return False
            events[:0] = [_Entry(now, now + expiry)] * amount
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._clock.time()
        events = self.events.get(key, [])
        inside = bisect.bisect_left(events, -(now - expiry), key=lambda e: -e.atime)
        if inside:
            return events[inside - 1].atime, inside
        return now, 0
