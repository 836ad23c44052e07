"""Test against the mock from Python: a server in this process or on a free loopback port, and pytest fixtures.

`MockServer` is the mock with its fixtures loaded and the admin API's operations as methods. In process (the
default), requests go straight to the ASGI app, with no socket; with `http=True` it listens on a free port of
127.0.0.1, for code that opens its own connections (`requests`, `urllib`, a subprocess). Either way nothing
sleeps: the port is bound before the server thread starts, so it accepts connections at once, and `start()`
returns once `GET /__mock/health` has said the store answers too.

    from mockserver.testing import MockServer

    with MockServer(seed=1, settings={"faults.default.latency_ms": 5}) as mock:
        with mock.client() as client:
            client.post(...)
        [entry] = mock.journal(operation="RefreshNFTMetadataByTokenID")

The pytest plugin (entry point `mockserver.testing`, or `-p mockserver.testing`) provides `mock_server` (in
process) and `mock_server_http` (on a real port), a fresh server per test unless `--mock-server-scope` or the
`mock_server_scope` ini option says otherwise:

    def test_my_app_refreshes_once(mock_server):
        my_app.refresh(base_url=mock_server.base_url, transport=mock_server.transport)
        [entry] = mock_server.journal(operation="RefreshNFTMetadataByTokenID")
        assert [i["token_id"] for i in entry.request_body["nft_metadata"]] == ["1", "2"]

Configure a test's server with the `mock_server` marker, whose keywords are `MockServer`'s (`http` aside), or
for every test by overriding the `mock_server_options` fixture:

    @pytest.mark.mock_server(seed=7, manual_clock=True, settings={"faults.default.error_rate": 0.5})
    def test_my_app_retries_failed_calls(mock_server): ...
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import socket
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest

from mockserver.clock import Clock, ManualClock
from mockserver.fixtures import Fixtures, load_fixtures, parse_fixtures
from mockserver.journal import JournalEntry
from mockserver.settings import FaultSettings, Settings, Strategy, load_settings

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from mockserver.services import Services
    from mockserver.web import MockApp

IN_PROCESS_HOST = "mockserver.test"
IN_PROCESS_BASE_URL = f"http://{IN_PROCESS_HOST}"
STARTUP_TIMEOUT = 30.0
ScopeName = Literal["session", "package", "module", "class", "function"]
_SCOPES: tuple[ScopeName, ...] = ("function", "class", "module", "package", "session")
FixturesArg = Fixtures | str | os.PathLike[str] | Mapping[str, Any] | None


class MockServer:
    """The mock server for a test: in this process (default) or, with `http=True`, on a free loopback port.

    Keyword-only configuration:

    - `settings`: a `Settings`, or dotted overrides such as `{"faults.default.error_rate": 0.5}` on the defaults
      (`MOCKSERVER_*` variables are ignored, so the environment cannot change a test).
    - `fixtures`: a `Fixtures`, a fixtures file, or a fixtures mapping (as the YAML holds); the built-in ones
      when omitted.
    - `seed`: the `seed` setting: trace ids from a seeded generator and a clock that starts at
      2026-01-01T00:00:00Z and moves 1 s per API request, so the same requests get the same responses.
    - `manual_clock`: a clock that stands at 2026-01-01T00:00:00Z until `advance` moves it; or `clock`, any
      `Clock` of your own.
    """

    def __init__(self, *, http: bool = False, settings: Settings | Mapping[str, Any] | None = None,
                 fixtures: FixturesArg = None, seed: int | None = None, manual_clock: bool = False,
                 clock: Clock | None = None) -> None:
        with warnings.catch_warnings():
            # Connexion imports names jsonschema deprecates: nothing the suite using this plugin can act on.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"connexion(\.|$)")
            from mockserver.web import create_app

        if manual_clock and clock is not None:
            raise ValueError("give manual_clock=True or a clock, not both")
        built = settings if isinstance(settings, Settings) else load_settings(environ={}, overrides=settings)
        if seed is not None:
            built = built.replace(seed=seed)
        self._http = http
        self._socket: socket.socket | None = None
        self._base_url = IN_PROCESS_BASE_URL
        if http:
            self._socket = _listening_socket(built.host)
            host, port = self._socket.getsockname()[:2]
            built = built.replace(port=port)
            self._base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        else:
            # No socket, so no web page can reach it: the base URL's name is how a team's code (and `client()`)
            # reaches the admin API in process.
            admin = dataclasses.replace(built.admin, allowed_hosts=(*built.admin.allowed_hosts, IN_PROCESS_HOST))
            built = built.replace(admin=admin)
        self._clients: list[httpx.Client] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        try:
            self.app: MockApp = create_app(built, clock=ManualClock() if manual_clock else clock,
                                           fixtures=_fixtures(fixtures, built))
        except BaseException:
            self._close_socket()
            raise
        self._transport = _ServerTransport(_InProcessTransport(self.app) if not http else httpx.HTTPTransport())
        self._started = not http
        self._stopped = False

    # Lifecycle

    def start(self) -> MockServer:
        """Start serving (on the port, for `http=True`; a no-op in process) and return the server."""
        if self._stopped:
            raise RuntimeError("this MockServer has been stopped; make a new one")
        if self._started:
            return self
        assert self._socket is not None
        ready = threading.Event()
        errors: list[BaseException] = []
        self._server = _uvicorn_server(self.app, ready, date_header=self.settings.seed is None)
        sock = self._socket

        def serve() -> None:
            try:
                self._server.run(sockets=[sock])
            except BaseException as exc:
                errors.append(exc)
            finally:
                ready.set()

        self._thread = threading.Thread(target=serve, name=f"mockserver:{self.base_url}", daemon=True)
        self._thread.start()
        ready.wait(STARTUP_TIMEOUT)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"the mock server did not start: {errors[0]!r}" if errors
                               else "the mock server did not start")
        self._started = True
        self._check_health()
        return self

    def _check_health(self) -> None:
        """Listening is not enough: the store (Redis, with `store: redis://...`) must answer too, as
        `GET /__mock/health` says; a server whose store does not is stopped with the reason."""
        if not self.settings.admin_enabled:
            return
        headers = {"Authorization": f"Bearer {self.settings.admin.token}"} if self.settings.admin.token else {}
        response = self._transport.handle_request(httpx.Request("GET", f"{self.base_url}/__mock/health",
                                                                headers=headers))
        response.read()
        if response.status_code != 200:
            self.stop()
            raise RuntimeError(f"the mock server started but is not healthy ({response.status_code}): "
                               f"{response.text}")

    def stop(self) -> None:
        """Close the clients it made, stop serving and free the port; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
        self._transport.shutdown()
        self._close_socket()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Reaching it

    @property
    def base_url(self) -> str:
        """Where the APIs are: `http://127.0.0.1:PORT` on a port, `http://mockserver.test` in process."""
        return self._base_url

    @property
    def transport(self) -> httpx.BaseTransport:
        """An httpx transport to the server, for code that takes one: `httpx.Client(transport=...)`.

        In process it hands requests to the app; on a port it is an ordinary HTTP transport. The server owns
        it: closing a client that uses it leaves it working.
        """
        return self._transport

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on `base_url` (keyword arguments go to `httpx.Client`); closed when the server stops."""
        kwargs.setdefault("timeout", 30.0)
        client = httpx.Client(base_url=self.base_url, transport=self._transport, **kwargs)
        self._clients.append(client)
        return client

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An `httpx.AsyncClient` on `base_url` (in process over `httpx.ASGITransport`); close it yourself."""
        kwargs.setdefault("timeout", 30.0)
        if self._http:
            return httpx.AsyncClient(base_url=self.base_url, **kwargs)
        return httpx.AsyncClient(base_url=self.base_url, transport=httpx.ASGITransport(app=self.app), **kwargs)

    # What the admin API does

    @property
    def services(self) -> Services:
        """The server's state and services (store, journal, limiters, clock)."""
        return self.app.services

    @property
    def settings(self) -> Settings:
        """The settings in force now."""
        return self.app.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def reset(self, fixtures: FixturesArg = None) -> None:
        """Back to the fixtures (or to new ones): records, uploads, quotas, queued refreshes and journal."""
        self.services.reset(_fixtures(fixtures, self.settings) if fixtures is not None else None)

    def update_settings(self, patch: Mapping[str, Any]) -> Settings:
        """Merge settings in, as `PATCH /__mock/settings` does; keys may be dotted (`"faults.default.latency_ms"`)
        or nested. Raises `ConfigError` (changing nothing) for an unknown or invalid setting."""
        return self.services.update(_nest(patch))

    def set_limit(self, limit: int, *, window: int | None = None, strategy: Strategy | None = None,
                  cost: Literal["request", "item"] | None = None) -> None:
        """The quota of the API that has one (`Api.quota_setting`); what is not given stays. A change starts a new
        window."""
        from mockserver.apis import registry

        [api] = [api for api in registry() if api.quota_setting is not None]
        given = {"limit": limit, "window": window, "strategy": strategy, "cost": cost}
        quota = {k: v for k, v in given.items() if v is not None}
        self.update_settings({f"{api.name}.{api.quota_setting}.{name}": value for name, value in quota.items()})

    def force_status(self, api: str, operation_id: str, status: int, rate: float = 1.0) -> None:
        """Make an operation fail with `status` (4xx or 5xx) for a share `rate` of its requests (all by default),
        in its API's error shape, through the `faults` settings. `clear_faults` undoes it."""
        _check_operation(api, operation_id)
        self.update_settings({"faults": {"operations": {f"{api}/{operation_id}": {
            "error_rate": rate, "error_status": status}}}})

    def clear_faults(self) -> None:
        """No injected latency or errors, for any operation."""
        # A settings patch merges and cannot delete entries: every one is set back to no fault instead.
        quiet = dataclasses.asdict(FaultSettings())
        faults = self.settings.faults
        self.update_settings({"faults": {"default": quiet, "operations": dict.fromkeys(faults.operations, quiet)}})

    def journal(self, *, api: str | None = None, operation: str | None = None, status: int | None = None,
                method: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """The requests the APIs received and their responses, oldest first, matching every filter given.

        `operation` is an operationId; `entry.request_body` is the parsed JSON body (multipart bodies show
        their part names), credentials are redacted."""
        return self.services.journal.query(api=api, operation=operation, status=status, method=method, limit=limit)

    def clear_journal(self) -> None:
        self.services.journal.clear()

    def advance(self, seconds: float) -> None:
        """Move a manual (or seeded) clock forward: refresh delays, rate-limit windows and timestamps follow."""
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("advance() needs a manual clock: MockServer(manual_clock=True), or a seed")
        self.clock.advance(seconds)

    def __repr__(self) -> str:
        where = "http" if self._http else "in-process"
        status = "stopped" if self._stopped else "running" if self._started else "not started"
        return (f"MockServer({where}, base_url={self.base_url!r}, seed={self.settings.seed!r}, "
                f"clock={self.clock!r}, {status})")


# The pytest plugin


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "token-metadata mock server (mockserver.testing)")
    group.addoption("--mock-server-scope", dest="mock_server_scope", choices=_SCOPES, default=None,
                    help="Scope of the mock_server fixtures (default: the mock_server_scope ini option, "
                         "else function).")
    parser.addini("mock_server_scope", "Scope of the mock_server fixtures: function (default), class, module, "
                                       "package or session.", default="function")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mock_server(**options): MockServer keyword arguments for the mock_server "
                                       "and mock_server_http fixtures (settings, fixtures, seed, manual_clock).")


def _scope(fixture_name: str, config: pytest.Config) -> ScopeName:
    scope = config.getoption("mock_server_scope", None) or config.getini("mock_server_scope")
    for known in _SCOPES:
        if scope == known:
            return known
    raise pytest.UsageError(f"mock_server_scope must be one of {', '.join(_SCOPES)}; got {scope!r}")


@pytest.fixture(scope=_scope)
def mock_server_options() -> dict[str, Any]:
    """`MockServer` keyword arguments for every test's server; override this fixture to change them."""
    return {}


@pytest.fixture(scope=_scope)
def mock_server(request: pytest.FixtureRequest, mock_server_options: dict[str, Any]) -> Iterator[MockServer]:
    """The mock in this process, with the built-in fixtures: reach it with `mock_server.client()` or
    `mock_server.transport`, inspect and steer it with its methods."""
    with MockServer(**_options(request, mock_server_options)) as server:
        yield server


@pytest.fixture(scope=_scope)
def mock_server_http(request: pytest.FixtureRequest, mock_server_options: dict[str, Any]) -> Iterator[MockServer]:
    """The mock listening on a free port of 127.0.0.1 (`mock_server_http.base_url`), for any HTTP client."""
    with MockServer(**_options(request, mock_server_options), http=True) as server:
        yield server


def _options(request: pytest.FixtureRequest, defaults: Mapping[str, Any]) -> dict[str, Any]:
    marker = request.node.get_closest_marker("mock_server")
    options = {**defaults, **(marker.kwargs if marker is not None else {})}
    if marker is not None and marker.args:
        raise pytest.UsageError("the mock_server marker takes keyword arguments only (those of MockServer)")
    if "http" in options:
        raise pytest.UsageError("choose in-process or a port by fixture (mock_server or mock_server_http), "
                                "not with the http option")
    return options


# Helpers


@functools.cache
def _builtin_fixtures() -> Fixtures:
    """The packaged fixtures, parsed once per process (every store copies what it is loaded from)."""
    return load_fixtures()


def _fixtures(fixtures: FixturesArg, settings: Settings) -> Fixtures:
    if isinstance(fixtures, Fixtures):
        return fixtures
    if isinstance(fixtures, Mapping):
        return parse_fixtures(dict(fixtures), source="MockServer(fixtures=...)")
    if fixtures is not None:
        return load_fixtures(Path(fixtures))
    return load_fixtures(settings.fixtures) if settings.fixtures else _builtin_fixtures()


def _nest(patch: Mapping[str, Any], tree: dict[str, Any] | None = None) -> dict[str, Any]:
    """A settings tree from keys that may be dotted, nested, or both (merged into `tree` if given)."""
    tree = {} if tree is None else tree
    for key, value in patch.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, Mapping):
            _nest(value, node.setdefault(leaf, {}))
        else:
            node[leaf] = value
    return tree


def _check_operation(api: str, operation_id: str) -> None:
    """Refuse a typo at once rather than configure a fault nothing ever hits."""
    from mockserver.apis import registry
    from mockserver.openapi import load_spec

    infos = {info.name: info for info in registry()}
    if api not in infos:
        raise ValueError(f"unknown API {api!r}; known: {', '.join(infos)}")
    spec = load_spec(infos[api], Settings())
    known = sorted({operation["operationId"] for item in spec["paths"].values() for operation in item.values()
                    if isinstance(operation, dict) and "operationId" in operation})
    if operation_id not in known:
        raise ValueError(f"{api} has no operation {operation_id!r}; its operations: {', '.join(known)}")


def _listening_socket(host: str) -> socket.socket:
    """A socket listening on a free port: connections queue from now on, before any server thread runs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _uvicorn_server(app: MockApp, ready: threading.Event, *, date_header: bool) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn that says when it has started (or failed to), so nobody has to poll or sleep."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            try:
                await super().startup(sockets)
            finally:
                ready.set()

    from mockserver.web.headerlimits import head_limit_protocol

    return Server(uvicorn.Config(app, log_level="warning", lifespan="off", date_header=date_header,
                                 http=head_limit_protocol(app.settings.clients)))


class _InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport into the ASGI app, run on an event loop in a helper thread.

    `httpx.ASGITransport` is asynchronous only; this carries a synchronous client's requests to it through an
    anyio blocking portal, started on the first request.
    """

    def __init__(self, app: MockApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._exit = contextlib.ExitStack()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # its stream is now an httpx.ByteStream, which reads asynchronously too
        status, headers, content = self._portal_now().call(self._send, request)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _send(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._asgi.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return response.status_code, response.headers.raw, content

    def _portal_now(self) -> BlockingPortal:
        with self._lock:
            if self._portal is None:
                from anyio.from_thread import start_blocking_portal

                self._portal = self._exit.enter_context(start_blocking_portal())
            return self._portal

    def close(self) -> None:
        with self._lock:
            self._portal = None
            self._exit.close()


class _ServerTransport(httpx.BaseTransport):
    """The server's transport as lent to clients: their `close()` leaves it open; the server's stop closes it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Kept open: the server closes it when it stops."""

    def shutdown(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return f"<MockServer transport {type(self._inner).__name__}>"

