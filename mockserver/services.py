"""The running mock without its web layer: settings, clock, store, limiters, journal and one service per API."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mockserver.apis import registry
from mockserver.apis.base import Api, ApiContext, random_trace_id
from mockserver.apis.base import Service as ApiService
from mockserver.clock import Clock, SteppingClock, SystemClock
from mockserver.fixtures import Fixtures, fixtures_from_json, fixtures_to_json, load_fixtures
from mockserver.journal import Journal
from mockserver.ratelimit import QuotaLimiter, make_storage
from mockserver.settings import RateLimitSettings, Settings, patch_settings
from mockserver.store import MEMORY_URL, Key, Record, Seed, Store, open_store
from mockserver.violations import ViolationLog

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
        seed = seed_of(fixtures)
        self.store: Store = open_store(settings.store, seed, prefix=settings.store_prefix)
        # The fixtures a seed was made from, so they are parsed back only for a seed another worker loaded.
        self._fixtures_of_seed = (seed, fixtures)
        self.journal = Journal()
        # Filled only by the validating proxy (`mockserver proxy`).
        self.violations = ViolationLog()
        self.random = random.Random(settings.seed)
        self.operation_limiters: dict[str, QuotaLimiter] = {}
        self._configure(settings, previous=None)
        # Built once, so what holds a service (each operation's handler) holds it for good; `_configure` gives
        # them changed settings.
        context = self._context()
        self._services: dict[str, object] = {api.name: api.build(context) for api in registry()}

    def service_of(self, api: Api[ApiService]) -> ApiService:
        """The service of one of the registry's APIs."""
        service: ApiService = self._services[api.name]  # type: ignore[assignment]  # what `api.build` made
        return service

    def update(self, patch: Mapping[str, Any]) -> Settings:
        """Merge a partial settings tree into the running settings (raises ConfigError, changing nothing)."""
        settings = patch_settings(self.settings, patch)
        self._configure(settings, previous=self.settings)
        return settings

    @property
    def fixtures(self) -> Fixtures:
        """The fixtures in force: what the store was last loaded from (by any worker, for a shared store)."""
        seed = self.store.seed
        if seed is not self._fixtures_of_seed[0]:
            self._fixtures_of_seed = (seed, fixtures_from_json(seed.document()))
        return self._fixtures_of_seed[1]

    def reset(self, fixtures: Fixtures | None = None) -> None:
        """Back to the fixtures (or to new ones): every record, upload, quota and journal entry."""
        if fixtures is None:
            self.store.load(self.store.seed)
        else:
            seed = seed_of(fixtures)
            self.store.load(seed)
            self._fixtures_of_seed = (seed, fixtures)
        for api in registry():
            api.reset(self.service_of(api))
        for limiter in self.operation_limiters.values():
            limiter.reset()
        self.journal.clear()
        self.violations.clear()
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
        storage = rate_limit_storage(settings)
        if previous is not None and storage != rate_limit_storage(previous):
            # The APIs' limiters are built by their `configure`, one API after another: the storage they all
            # share is tried here first, so none of them is left half reconfigured.
            make_storage(storage, self.clock)
        # A changed limit starts a new window; unchanged limiters keep what has been spent.
        operation_limiters = self.operation_limiters
        if previous is None or previous.operation_limits != settings.operation_limits:
            operation_limiters = {
                name: QuotaLimiter(RateLimitSettings(limit=limit.limit, window=limit.window,
                                                     strategy=limit.strategy, storage=storage), self.clock,
                                   key_prefix=f"{limits_prefix(settings)}operation:{name.replace('*', 'any')}")
                for name, limit in settings.operation_limits.items()
            }
        self.settings, self.operation_limiters = settings, operation_limiters
        if previous is not None:
            context = self._context()
            for api in registry():
                api.configure(self.service_of(api), context, previous)

    def _context(self) -> ApiContext:
        return ApiContext(store=self.store, clock=self.clock, settings=self.settings,
                          limits_storage=rate_limit_storage(self.settings), limits_prefix=limits_prefix(self.settings),
                          trace_id=self.trace_id)

    def operation_limiter(self, api: str, operation_id: str) -> QuotaLimiter | None:
        """The extra limit configured for an operation (`api/operationId`, else `*`), if any."""
        return self.operation_limiters.get(f"{api}/{operation_id}") or self.operation_limiters.get("*")

    def __repr__(self) -> str:
        return f"Services(store={self.store!r}, clock={self.clock!r})"


def seed_of(fixtures: Fixtures) -> Seed:
    """What a store loaded with `fixtures` holds: each API's records and files, and the fixtures as JSON."""
    records: dict[str, dict[Key, Record]] = {}
    blobs: list[tuple[bytes, str]] = []
    for api in registry():
        api_records, api_blobs = api.seed(fixtures)
        records.update({kind: dict(table) for kind, table in api_records.items()})
        blobs.extend(api_blobs)
    return Seed(records=records, blobs=blobs, document=lambda: fixtures_to_json(fixtures))


def limits_prefix(settings: Settings) -> str:
    """Where this server's limiters count in their storage: under the store's prefix."""
    return f"{settings.store_prefix}limits:"


def rate_limit_storage(settings: Settings) -> str:
    """The `limits` storage of every limiter: as an API's settings name it, except that a Redis store shares its
    Redis too.

    With several workers on one Redis store, per-process memory counters would let each worker spend the whole
    quota, so the default memory storage gives way to the store's URL (`unix://` spelled `redis+unix://`).
    """
    storage = next((api.limits_storage(settings) for api in registry() if api.limits_storage is not None), MEMORY_URL)
    if storage != MEMORY_URL or settings.store == MEMORY_URL:
        return storage
    scheme, _, rest = settings.store.partition("://")
    return f"redis+unix://{rest}" if scheme.lower() == "unix" else settings.store

