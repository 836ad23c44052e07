"""The running mock without its web layer: settings, clock, store, limiter and one service per API."""

from __future__ import annotations

from mockserver.apis.immutable import ImmutableService
from mockserver.apis.rair import RairService
from mockserver.apis.tokenization import TokenizationService
from mockserver.clock import Clock, SystemClock
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.ratelimit import QuotaLimiter
from mockserver.settings import Settings
from mockserver.store import Store


class Services:
    """Everything a request can reach, built once per server and reset to its fixtures on demand."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, fixtures: Fixtures | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.fixtures = fixtures if fixtures is not None else load_fixtures(settings.fixtures)
        self.store = Store(self.fixtures)
        self.limiter = QuotaLimiter(settings.immutable.rate_limit, self.clock)
        self.rair = RairService(self.store, settings.rair)
        self.immutable = ImmutableService(self.store, settings.immutable, self.clock, self.limiter)
        self.tokenization = TokenizationService(self.store, settings.tokenization, self.clock)

    def reset(self, fixtures: Fixtures | None = None) -> None:
        """Back to the fixtures (or to new ones): every record, upload and quota."""
        if fixtures is not None:
            self.fixtures = fixtures
        self.store.load(self.fixtures)
        self.limiter.reset()

    def __repr__(self) -> str:
        return f"Services(store={self.store!r}, limiter={self.limiter!r}, clock={self.clock!r})"
