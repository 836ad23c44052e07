"""A Redis store that goes away and comes back: 503 in each API's shape meanwhile, the fixtures again after.

Each test runs its own redis-server (the session's is shared with other tests) and stops and restarts it.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from mockserver.web import MockApp
from tests.mockserver.redis_server import REDIS_SERVER, RedisServer, start_redis_server
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
    tokenization_service,
)

pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[redis]'")
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not on PATH: apt-get install redis-server"),
]

# One request per API that needs the store, and what each API's error body holds.
REQUESTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("rair", "GET", RAIR_TOKEN_PATH, {"headers": rair_headers()}),
    ("immutable", "GET", f"{IMX_BASE}/1", {}),
    ("immutable", "POST", IMX_REFRESH, {"headers": imx_headers(), "json": refresh_body("1")}),
    ("tokenization", "GET", TKN_PATH, {"headers": tkn_headers()}),
]


@pytest.fixture
def own_redis() -> Iterator[list[RedisServer]]:
    """A redis-server for this test alone, in a list so the test can replace it with its restarted self."""
    servers = [start_redis_server()]
    yield servers
    servers[-1].stop()


@pytest.fixture
async def served(own_redis: list[RedisServer], make_app: Any) -> AsyncIterator[tuple[MockApp, ApiClient]]:
    # The API specs do not document a 503 (any HTTP API may answer one), so responses are checked here rather
    # than against them; the admin spec's are, through response validation.
    app = make_app({"store": own_redis[0].url(), "validate_responses": True})
    async with ApiClient(app, validate=False) as client:
        yield app, client
    app.services.store.close()


def assert_unavailable(api: str, response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "unavailable" in body["message"]
    assert "Traceback" not in response.text
    shapes = {"rair": {"success", "error", "message"}, "immutable": {"message", "link", "trace_id", "code", "details"},
              "tokenization": {"status", "message", "field"}}
    assert set(body) == shapes[api], body


class TestRedisDown:
    @pytest.mark.parametrize(("api", "method", "path", "kwargs"), REQUESTS, ids=lambda v: str(v)[:30])
    async def test_each_api_answers_503_in_its_shape_with_retry_after(
            self, served: Any, own_redis: list[RedisServer], api: str, method: str, path: str,
            kwargs: dict[str, Any]) -> None:
        _, client = served
        own_redis[0].stop()
        assert_unavailable(api, await client.request(method, path, **kwargs))

    async def test_the_admin_api_answers_503_too(self, served: Any, own_redis: list[RedisServer]) -> None:
        _, client = served
        own_redis[0].stop()
        response = await client.get("/__mock/state")
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["status"] == 503


class TestRedisBackEmpty:
    async def test_fixtures_are_loaded_again_after_a_restart_without_persistence(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        app, client = served
        changed = await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "changed")})
        assert changed.status_code == 200, changed.text
        assert (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]["metadata"]["name"] \
            == "changed"
        own_redis.append(own_redis[0].restart())  # same port, nothing kept

        state = await client.get("/__mock/state")  # the admin API notices too, before any API request
        assert len(state.json()["tokenization"]["tokens"]) == len(app.services.fixtures.tokenization_tokens)
        for _, method, path, kwargs in REQUESTS:
            response = await client.request(method, path, **kwargs)
            assert response.status_code in (200, 202), (path, response.text)
        token = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]
        assert token["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"  # the fixtures' record again
        tokens = tokenization_service(app.services).records.tokens()
        assert len(tokens) == len(app.services.fixtures.tokenization_tokens)

    async def test_a_public_read_is_the_first_request_after_a_restart(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        # Immutable's GetNFT needs no credential, so the fast path serves it: it refills the store first too.
        _, client = served
        own_redis.append(own_redis[0].restart())
        response = await client.get(f"{IMX_BASE}/1")
        assert response.status_code == 200, response.text

    async def test_down_then_back_serves_again_without_a_reset(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        _, client = served
        own_redis[0].stop()
        assert_unavailable("tokenization", await client.get(TKN_PATH, headers=tkn_headers()))
        own_redis.append(start_redis_server(port=own_redis[0].port))
        response = await client.get(TKN_PATH, headers=tkn_headers())
        assert response.status_code == 200, response.text


class TestHealth:
    async def test_ok_while_redis_answers_and_503_while_it_does_not(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        _, client = served
        up = await client.get("/__mock/health")
        assert up.status_code == 200, up.text
        assert up.json() == {"status": "ok", "store": "redis"}

        own_redis[0].stop()
        down = await client.get("/__mock/health")
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"] == "1"
        assert down.json()["status"] == "unavailable"

        own_redis.append(start_redis_server(port=own_redis[0].port))
        assert (await client.get("/__mock/health")).status_code == 200


class TestRedisStalled:
    """A Redis that stops answering without refusing (paused, overloaded, cut off by a firewall)."""

    async def test_requests_and_health_get_503_within_seconds_and_serve_again_once_it_answers(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        _, client = served
        assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200
        pid = own_redis[0].process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            api = await client.get(TKN_PATH, headers=tkn_headers())
            health = await client.get("/__mock/health")
            elapsed = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        assert_unavailable("tokenization", api)
        assert health.status_code == 503, health.text
        # Each Redis call blocks the server: one ~1 s timeout per request, not three 30 s ones (90 s each).
        assert elapsed < 6, f"two requests took {elapsed:.1f} s while Redis was paused"
        assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200


class TestSecretsInLogs:
    async def test_the_refill_warning_does_not_log_the_store_password(
            self, own_redis: list[RedisServer], make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
        import redis

        admin = redis.Redis(host="127.0.0.1", port=own_redis[0].port)
        admin.config_set("requirepass", "hunter2")
        url = own_redis[0].url().replace("redis://", "redis://:hunter2@")
        app = make_app({"store": url})
        try:
            async with ApiClient(app, validate=False) as client:
                admin = redis.Redis(host="127.0.0.1", port=own_redis[0].port, password="hunter2")
                admin.flushall()  # as a restart without persistence leaves it
                with caplog.at_level(logging.WARNING, logger="mockserver"):
                    assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200
        finally:
            app.services.store.close()
            admin.close()
        assert "fixtures loaded again" in caplog.text
        assert "redis://:[redacted]@127.0.0.1" in caplog.text
        assert "hunter2" not in caplog.text


class TestWhereTheStoreIsChecked:
    """While Redis is down, the store check answers only where the store is needed, after CORS, Host and token."""

    ORIGIN = "https://app.example"

    async def test_an_api_503_carries_cors_headers_and_a_preflight_is_answered(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        _, client = served
        own_redis[0].stop()
        response = await client.get(TKN_PATH, headers={**tkn_headers(), "origin": self.ORIGIN})
        assert_unavailable("tokenization", response)
        assert response.headers["access-control-allow-origin"] == "*"  # a browser script can read the 503
        preflight = await client.options(IMX_REFRESH, headers={
            "origin": self.ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-immutable-api-key"})
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == "*"

    async def test_a_foreign_host_on_the_admin_api_is_403_not_503(
            self, served: Any, own_redis: list[RedisServer]) -> None:
        app, _ = served
        own_redis[0].stop()
        async with ApiClient(app, validate=False, base_url="http://rebound.example") as foreign:
            response = await foreign.get("/__mock/settings")
        assert response.status_code == 403, response.text

    async def test_a_missing_admin_token_is_401_not_503(
            self, own_redis: list[RedisServer], make_app: Any) -> None:
        app = make_app({"store": own_redis[0].url(), "admin.token": "s3cret"})
        try:
            async with ApiClient(app, validate=False) as client:
                own_redis[0].stop()
                assert (await client.get("/__mock/state")).status_code == 401
                authorised = await client.get("/__mock/state", headers={"Authorization": "Bearer s3cret"})
                assert authorised.status_code == 503, authorised.text
        finally:
            app.services.store.close()

    @pytest.mark.parametrize("path", ["/", "/__mock/docs/", "/__mock/openapi.json", "/openapi/tokenization.json",
                                      "/docs/immutable/"])
    async def test_the_page_docs_and_specs_are_served(
            self, served: Any, own_redis: list[RedisServer], path: str) -> None:
        _, client = served
        own_redis[0].stop()
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
