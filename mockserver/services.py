"""The running mock without its web layer: settings, clock, store, limiters, journal and one service per API."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mockserver.apis.immutable import ImmutableService, random_trace_id
from mockserver.apis.rair import RairService
from mockserver.apis.tokenization import TokenizationService
from mockserver.clock import Clock, SteppingClock, SystemClock
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.journal import Journal
from mockserver.ratelimit import QuotaLimiter
from mockserver.settings import RateLimitSettings, Settings, patch_settings
from mockserver.store import MEMORY_URL, Store, open_store

Sleep = Callable[[float], Awaitable[None]]


class Services:
    """Everything a request can reach, built once per server; reconfigured and reset at run time."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, fixtures: Fixtures | None = None,
                 sleep: Sleep | None = None) -> None:
        # A seed makes every run alike: time then moves by a fixed step per request (see SteppingClock).
        self.clock: Clock = clock or (SteppingClock() if settings.seed is not None else SystemClock())
        # Injected latency goes through here, so tests can observe it without waiting.
        self.sleep: Sleep = sleep or asyncio.sleep
        fixtures = fixtures if fixtures is not None else load_fixtures(settings.fixtures)
        # A Redis store already holding state (another worker's, an earlier run's) keeps it, not these fixtures.
        self.store: Store = open_store(settings.store, fixtures, prefix=settings.store_prefix)
        self.journal = Journal()
        self.random = random.Random(settings.seed)
        self.limiter: QuotaLimiter
        self.operation_limiters: dict[str, QuotaLimiter] = {}
        self._configure(settings, previous=None)

    def update(self, patch: Mapping[str, Any]) -> Settings:
        """Merge a partial settings tree into the running settings (raises ConfigError, changing nothing)."""
        settings = patch_settings(self.settings, patch)
        self._configure(settings, previous=self.settings)
        return settings

    @property
    def fixtures(self) -> Fixtures:
        """The fixtures in force: what the store was last loaded from (by any worker, for a shared store)."""
        return self.store.fixtures

    def reset(self, fixtures: Fixtures | None = None) -> None:
        """Back to the fixtures (or to new ones): every record, upload, quota and journal entry."""
        self.store.load(fixtures if fixtures is not None else self.store.fixtures)
        self.limiter.reset()
        for limiter in self.operation_limiters.values():
            limiter.reset()
        self.journal.clear()
        if self.settings.seed is not None:  # a reset seeded server replays exactly as a fresh one
            self.random.seed(self.settings.seed)
            if isinstance(self.clock, SteppingClock):
                self.clock.rewind()

    def trace_id(self) -> str:
        """A new trace id (32 hex digits): from the seeded Random when there is a seed, else unpredictable."""
        if self.settings.seed is None:
            return random_trace_id()
        return f"{self.random.getrandbits(128):032x}"

    def request_done(self) -> None:
        """Called after every request to one of the APIs: a seeded server's clock moves one step."""
        if isinstance(self.clock, SteppingClock):
            self.clock.tick()

    def _configure(self, settings: Settings, *, previous: Settings | None) -> None:
        # Everything that can refuse the settings (a limiter's storage) is built before anything is assigned:
        # settings the admin API answers 400 to change nothing.
        # A changed limit starts a new window; unchanged limiters keep what has been spent.
        storage = rate_limit_storage(settings)
        limits_prefix = f"{settings.store_prefix}limits:"
        if previous is not None and previous.immutable.rate_limit == settings.immutable.rate_limit:
            limiter = self.limiter
        else:
            limiter = QuotaLimiter(dataclasses.replace(settings.immutable.rate_limit, storage=storage),
                                   self.clock, key_prefix=limits_prefix + "immutable")
        operation_limiters = self.operation_limiters
        if previous is None or previous.operation_limits != settings.operation_limits:
            operation_limiters = {
                name: QuotaLimiter(RateLimitSettings(limit=limit.limit, window=limit.window,
                                                     strategy=limit.strategy, storage=storage), self.clock,
                                   key_prefix=f"{limits_prefix}operation:{name.replace('*', 'any')}")
                for name, limit in settings.operation_limits.items()
            }
        self.settings, self.limiter, self.operation_limiters = settings, limiter, operation_limiters
        self.rair = RairService(self.store, settings.rair)
        self.immutable = ImmutableService(self.store, settings.immutable, self.clock, self.limiter)
        self.tokenization = TokenizationService(self.store, settings.tokenization, self.clock)

    def operation_limiter(self, api: str, operation_id: str) -> QuotaLimiter | None:
        """The extra limit configured for an operation (`api/operationId`, else `*`), if any."""
        return self.operation_limiters.get(f"{api}/{operation_id}") or self.operation_limiters.get("*")

    def __repr__(self) -> str:
        return f"Services(store={self.store!r}, limiter={self.limiter!r}, clock={self.clock!r})"


def rate_limit_storage(settings: Settings) -> str:
    """The `limits` storage of every limiter: as configured, except that a Redis store shares its Redis too.

    With several workers on one Redis store, per-process memory counters would let each worker spend the whole
    quota, so the default memory storage gives way to the store's URL (`unix://` spelled `redis+unix://`).
    """
    storage = settings.immutable.rate_limit.storage
    if storage != MEMORY_URL or settings.store == MEMORY_URL:
        return storage
    scheme, _, rest = settings.store.partition("://")
    return f"redis+unix://{rest}" if scheme.lower() == "unix" else settings.store

