"""The running mock without its web layer: settings, clock, store, limiters, journal and one service per API."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mockserver.apis.immutable import ImmutableService
from mockserver.apis.rair import RairService
from mockserver.apis.tokenization import TokenizationService
from mockserver.clock import Clock, SystemClock
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.journal import Journal
from mockserver.ratelimit import QuotaLimiter
from mockserver.settings import RateLimitSettings, Settings, patch_settings
from mockserver.store import Store

Sleep = Callable[[float], Awaitable[None]]


class Services:
    """Everything a request can reach, built once per server; reconfigured and reset at run time."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, fixtures: Fixtures | None = None,
                 sleep: Sleep | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        # Injected latency goes through here, so tests can observe it without waiting.
        self.sleep: Sleep = sleep or asyncio.sleep
        self.fixtures = fixtures if fixtures is not None else load_fixtures(settings.fixtures)
        self.store = Store(self.fixtures)
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

    def reset(self, fixtures: Fixtures | None = None) -> None:
        """Back to the fixtures (or to new ones): every record, upload, quota and journal entry."""
        if fixtures is not None:
            self.fixtures = fixtures
        self.store.load(self.fixtures)
        self.limiter.reset()
        for limiter in self.operation_limiters.values():
            limiter.reset()
        self.journal.clear()

    def _configure(self, settings: Settings, *, previous: Settings | None) -> None:
        self.settings = settings
        # A changed limit starts a new window; unchanged limiters keep what has been spent.
        if previous is None or previous.immutable.rate_limit != settings.immutable.rate_limit:
            self.limiter = QuotaLimiter(settings.immutable.rate_limit, self.clock)
        if previous is None or previous.operation_limits != settings.operation_limits:
            storage = settings.immutable.rate_limit.storage
            self.operation_limiters = {
                name: QuotaLimiter(RateLimitSettings(limit=limit.limit, window=limit.window,
                                                     strategy=limit.strategy, storage=storage), self.clock)
                for name, limit in settings.operation_limits.items()
            }
        self.rair = RairService(self.store, settings.rair)
        self.immutable = ImmutableService(self.store, settings.immutable, self.clock, self.limiter)
        self.tokenization = TokenizationService(self.store, settings.tokenization, self.clock)

    def operation_limiter(self, api: str, operation_id: str) -> QuotaLimiter | None:
        """The extra limit configured for an operation (`api/operationId`, else `*`), if any."""
        return self.operation_limiters.get(f"{api}/{operation_id}") or self.operation_limiters.get("*")

    def __repr__(self) -> str:
        return f"Services(store={self.store!r}, limiter={self.limiter!r}, clock={self.clock!r})"

