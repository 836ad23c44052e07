"""Fixtures for the mock server's tests: a manual clock, an app factory and spec-checking clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mockserver.clock import ManualClock
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.settings import Settings, load_settings
from mockserver.web import MockApp, create_app
from tests.mockserver.redis_server import REDIS_SERVER, RedisServer, start_redis_server
from tests.mockserver.support import ApiClient

AppFactory = Callable[..., MockApp]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RewindableClock(ManualClock):
    """A manual clock that tests can put back to its start, so one app can serve many tests."""

    def __init__(self) -> None:
        super().__init__()
        self._start = self.time()

    def rewind(self) -> None:
        self._now = self._start


@pytest.fixture(scope="session")
def _session_clock() -> RewindableClock:
    return RewindableClock()


@pytest.fixture
def clock(_session_clock: RewindableClock) -> ManualClock:
    """The time every app of the test runs on, at 2026-01-01T00:00:00Z; it moves only with `clock.advance`."""
    _session_clock.rewind()
    return _session_clock


@pytest.fixture(scope="session")
def default_fixtures() -> Fixtures:
    """The packaged fixtures, parsed once (each app deep-copies them into its store)."""
    return load_fixtures()


def make_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from defaults and dotted overrides only, whatever the environment of the test run."""
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Dotted settings for the `app` fixture; override this fixture in a module or class to change them."""
    return {}


@pytest.fixture
def make_app(clock: ManualClock, default_fixtures: Fixtures) -> AppFactory:
    """Build an app on the test's clock: `make_app({"rair.max_files": 1}, fixtures=...)`."""

    def factory(overrides: Mapping[str, Any] | None = None, *, fixtures: Fixtures | None = None) -> MockApp:
        return create_app(make_settings(overrides), clock=clock, fixtures=fixtures or default_fixtures)

    return factory


@pytest.fixture(scope="session")
def _app_cache() -> dict[str, MockApp]:
    return {}


@pytest.fixture
def app_for(_app_cache: dict[str, MockApp], make_app: AppFactory, clock: ManualClock) -> AppFactory:
    """An app on the given dotted settings, in the state its fixtures describe.

    Building the Connexion apps is the slow part of a test, so an app is built once per distinct settings and
    reset to its fixtures (records, uploads, queued refreshes, quotas) each time a test asks for it.
    """

    def factory(overrides: Mapping[str, Any] | None = None) -> MockApp:
        key = json.dumps(dict(overrides or {}), sort_keys=True)
        cached = _app_cache.get(key)
        if cached is None:
            cached = _app_cache[key] = make_app(overrides)
        else:
            cached.services.reset()
        return cached

    return factory


@pytest.fixture
def app(app_for: AppFactory, settings_overrides: dict[str, Any]) -> MockApp:
    """The app of the test, on `settings_overrides`."""
    return app_for(settings_overrides)


@pytest.fixture
async def client(app: MockApp) -> AsyncIterator[ApiClient]:
    """An httpx client over the app's ASGI interface; every API response is checked against its spec."""
    async with ApiClient(app) as api_client:
        yield api_client


@pytest.fixture
def tmp_yaml(tmp_path: Path) -> Callable[[str], Path]:
    """Write YAML text to a fresh file and return its path."""
    counter = iter(range(1_000_000))

    def write(text: str) -> Path:
        path = tmp_path / f"file{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the session, on a free loopback port; the tests that need it skip without it."""
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip("the redis package is not installed: pip install -e '.[redis]'")
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not on PATH: apt-get install redis-server")
    server = start_redis_server()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an emptied database of the session's redis-server."""
    import redis

    with redis.Redis.from_url(redis_server.url()) as client:
        client.flushdb()
    return redis_server.url()
