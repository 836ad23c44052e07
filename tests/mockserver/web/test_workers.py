"""Scaling out: `mockserver serve --workers 2 --store redis://...` is one mock, whichever process answers.

The server runs as a real subprocess on a free loopback port, with a throwaway redis-server (see
tests/mockserver/redis_server.py; skipped without `redis-server` on PATH). Responses carry `X-Mock-Worker` (the
`worker_header` setting), and each test holds keep-alive connections to both workers, so it knows which
process served what.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner

from mockserver import cli
from mockserver.web import listen
from mockserver.web.workerheader import WORKER_HEADER
from mockserver.web.workers import SETTINGS_ENV, app_from_environment, export_settings
from tests.mockserver import media
from tests.mockserver.conftest import make_settings
from tests.mockserver.redis_server import RedisServer, free_port
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    Multipart,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

T = TypeVar("T")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
WORKERS = 2
LIMIT = 10


class TestRefusals:
    """Several workers need a shared store; the CLI says so rather than serve diverging states."""

    def test_workers_with_the_memory_store_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(listen, "run_server", lambda *args, **kwargs: pytest.fail("must not serve"))

        result = CliRunner().invoke(cli.main, ["serve", "--workers", "2"], env={})

        assert result.exit_code == 1
        assert "--workers 2 needs a shared store" in result.output
        assert "--store redis://" in result.output

    def test_factory_without_exported_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(SETTINGS_ENV, raising=False)
        with pytest.raises(Exception, match="--workers"):
            app_from_environment()

    def test_settings_survive_the_trip_through_the_environment(self) -> None:
        settings = make_settings({"store_prefix": "elsewhere:", "immutable.rate_limit.limit": 7, "port": 9001,
                                  "cors_origins": "http://a.test", "operation_limits.*.limit": 4,
                                  "worker_header": True})
        environ: dict[str, str] = {}

        export_settings(settings, environ)

        assert json.loads(environ[SETTINGS_ENV])["immutable"]["rate_limit"]["limit"] == 7
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(SETTINGS_ENV, environ[SETTINGS_ENV])
            app = app_from_environment()
        assert app.settings == settings  # type: ignore[attr-defined]


@dataclasses.dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def server(redis_server: RedisServer) -> Iterator[Server]:
    """`mockserver serve --workers 2` on a free port and its own Redis database, stopped with SIGINT afterwards."""
    import redis

    store = redis_server.url(db=1)
    with redis.Redis.from_url(store) as client:
        client.flushdb()
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--workers", str(WORKERS), "--store", store,
               "--port", str(port), "--set", f"immutable.rate_limit.limit={LIMIT}", "--set", "worker_header=true",
               "--log-level", "warning"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("MOCKSERVER_")}
    with tempfile.TemporaryFile(prefix="mockserver-workers-") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        running = Server(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_until_ready(running)
            yield running
        finally:
            stopped = _stop(running)
            output = running.output()
    assert stopped, f"the server did not stop within {STOP_TIMEOUT} s:\n{output}"
    assert process.returncode == 0, f"the server exited with {process.returncode}:\n{output}"
    assert "Traceback" not in output, output


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"the server exited with {server.process.returncode}:\n{server.output()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.base_url}/__mock/health", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not answer within {START_TIMEOUT} s:\n{server.output()}")
        time.sleep(0.05)


def _stop(server: Server) -> bool:
    """SIGINT, as Ctrl-C would send: uvicorn stops its workers and exits. Kill the group if it hangs."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=STOP_TIMEOUT)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=STOP_TIMEOUT)
        return False


class Connection:
    """One keep-alive connection, so every request goes to the worker that accepted it (checked on each)."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10,
                                   limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self.worker = self.request("GET", f"{IMX_BASE}/1").headers[WORKER_HEADER]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        worker = response.headers[WORKER_HEADER]
        assert getattr(self, "worker", worker) == worker, "the connection moved to another worker"
        return response

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def connections(server: Server) -> Iterator[Callable[[int], dict[str, list[Connection]]]]:
    """Open connections until each worker holds `per_worker` of them; by worker pid."""
    opened: list[Connection] = []

    def connect(per_worker: int) -> dict[str, list[Connection]]:
        by_worker: dict[str, list[Connection]] = {}
        deadline = time.monotonic() + START_TIMEOUT
        while len(by_worker) < WORKERS or any(len(c) < per_worker for c in by_worker.values()):
            assert time.monotonic() < deadline, f"could not reach {WORKERS} workers: {sorted(by_worker)}"
            connection = Connection(server.base_url)
            opened.append(connection)
            held = by_worker.setdefault(connection.worker, [])
            if len(held) < per_worker:
                held.append(connection)
            else:
                connection.close()
        return by_worker

    # Every test starts from the fixtures and a full quota, whatever ran before.
    reset = httpx.post(f"{server.base_url}/__mock/reset", headers={"X-Mock-Admin": "1"}, timeout=10)
    assert reset.status_code == 204, reset.text
    yield connect
    for connection in opened:
        connection.close()


def together(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released at the same moment; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))



@pytest.mark.network
class TestTwoWorkers:
    def test_state_written_through_one_worker_is_read_through_the_other(
            self, connections: Callable[[int], dict[str, list[Connection]]]) -> None:
        (one,), (two,) = connections(1).values()
        assert one.worker != two.worker

        body = Multipart().fields({"name": "Via one", "image": "one.png"}).file("files", "one.png", media.png(7, 7),
                                                                               "image/png")
        updated = one.request("POST", RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers()))
        read = two.request("GET", RAIR_TOKEN_PATH, headers=rair_headers())
        image = two.request("GET", httpx.URL(read.json()["result"]["metadata"]["image"]).path)
        accepted = two.request("POST", IMX_REFRESH, json=refresh_body("2", name="Via two"), headers=imx_headers())
        nft = one.request("GET", f"{IMX_BASE}/2")

        assert updated.status_code == 200
        assert read.json()["result"]["metadata"]["name"] == "Via one"
        assert (image.status_code, image.content) == (200, media.png(7, 7))
        assert accepted.status_code == 202
        assert nft.json()["result"]["name"] == "Via two"

    def test_workers_refuse_an_oversized_head_with_431(self, server: Server) -> None:
        # Each worker imports its HTTP protocol by name and takes the limits from the exported settings.
        response = httpx.get(f"{server.base_url}{IMX_BASE}/1", headers={"X-Big": "a" * 70_000}, timeout=10)

        assert response.status_code == 431
        assert response.json()["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"

    def test_the_rate_limit_holds_across_workers(
            self, connections: Callable[[int], dict[str, list[Connection]]]) -> None:
        held = [c for workers in connections(LIMIT).values() for c in workers]  # 2 x LIMIT connections

        def refresh(connection: Connection) -> Callable[[], httpx.Response]:
            return lambda: connection.request("POST", IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        responses = together([refresh(c) for c in held])

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [202] * LIMIT + [429] * LIMIT, statuses
        accepted = [r for r in responses if r.status_code == 202]
        # Each accepted refresh saw its own place in the one shared quota.
        assert sorted(int(r.headers["imx-remaining-refreshes"]) for r in accepted) == list(range(LIMIT))
        assert {r.headers[WORKER_HEADER] for r in responses} == {c.worker for c in held}

    def test_concurrent_updates_through_both_workers_are_all_applied(
            self, connections: Callable[[int], dict[str, list[Connection]]]) -> None:
        held = [c for workers in connections(12).values() for c in workers]  # one connection per request
        fields = {"name": "N", "description": "D", "artist": "A", "external_url": "https://x.test/e",
                  "image": "https://x.test/i.png", "animation_url": "https://x.test/a.mp4",
                  "attributes": json.dumps([{"trait_type": "t", "value": "v"}])}

        def rair(n: int, field: str) -> Callable[[], int]:
            body = Multipart().field(field, fields[field])
            return lambda: held[n].request("POST", RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers())).status_code

        def tokenization(n: int) -> Callable[[], int]:
            body = Multipart().fields({"name": "n", "description": "d"}).file("images", f"{n}.png",
                                                                             media.png(n + 1, 2), "image/png")
            connection = held[len(fields) + n]
            return lambda: connection.request("PUT", TKN_PATH, **body.request_kwargs(tkn_headers())).status_code

        calls = [rair(n, field) for n, field in enumerate(fields)] + [tokenization(n) for n in range(16)]
        statuses = together(calls)

        assert statuses == [200] * len(calls)
        for connection in (held[0], held[-1]):  # one of each worker
            metadata = connection.request("GET", RAIR_TOKEN_PATH, headers=rair_headers()).json()["result"]["metadata"]
            assert metadata == {**fields, "attributes": [{"trait_type": "t", "value": "v"}]}
            token = connection.request("GET", TKN_PATH, headers=tkn_headers()).json()
            hashes = {image["hash"] for image in token["meta"]["images"][1:]}
            assert hashes == {hashlib.sha256(media.png(n + 1, 2)).hexdigest() for n in range(16)}
            last = hashlib.sha256(media.png(16, 2)).hexdigest()
            image = next(i for i in token["meta"]["images"] if i["hash"] == last)
            assert connection.request("GET", httpx.URL(image["url"]).path).content == media.png(16, 2)
        assert held[0].worker != held[-1].worker
