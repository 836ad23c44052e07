"""RAIR's server-wide limit per client address (`rair.rate_limit`, on in the `realistic` preset) over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver.clock import ManualClock
from mockserver.settings import load_settings
from mockserver.web import MockApp, create_app
from tests.mockserver.conftest import AppFactory
from tests.mockserver.support import RAIR_TOKEN_PATH, TKN_PATH, ApiClient, Multipart, assert_error, rair_headers

pytestmark = pytest.mark.anyio

LIMITED = {"rair.rate_limit.enabled": True, "rair.rate_limit.limit": 3}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(LIMITED)


@pytest.fixture
async def other_client(app: MockApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client from another address than `client`'s."""
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as other:
        yield other


class TestLimit:
    async def test_draft7_headers_count_down_then_429_in_rairs_shape(self, client: ApiClient,
                                                                      clock: ManualClock) -> None:
        answers = [await client.get(RAIR_TOKEN_PATH) for _ in range(3)]
        clock.advance(20)
        refused = await client.get(RAIR_TOKEN_PATH)

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["RateLimit"] for a in answers] == [
            f"limit=3, remaining={left}, reset=60" for left in (2, 1, 0)]
        assert {a.headers["RateLimit-Policy"] for a in answers} == {"3;w=60"}
        assert_error(refused, 429, "Too many requests")
        assert refused.headers["RateLimit"] == "limit=3, remaining=0, reset=40"
        assert refused.headers["Retry-After"] == "40"

    async def test_every_request_counts_valid_or_not(self, client: ApiClient, clock: ManualClock) -> None:
        statuses = [
            (await client.get(RAIR_TOKEN_PATH.replace("/token/1", "/token/99"))).status_code,  # 404
            (await client.post(RAIR_TOKEN_PATH, **Multipart().field("name", "x").request_kwargs({}))).status_code,
            (await client.get(RAIR_TOKEN_PATH.replace("/0/", "/x/"))).status_code,  # 400
        ]
        refused = await client.post(RAIR_TOKEN_PATH, **Multipart().field("name", "x").request_kwargs(rair_headers()))

        assert statuses == [404, 401, 400]
        assert_error(refused, 429)
        clock.advance(60)
        assert (await client.get(RAIR_TOKEN_PATH)).json()["result"]["metadata"]["name"] != "x"  # nothing stored

    async def test_per_client_address_and_a_new_window(self, client: ApiClient, other_client: httpx.AsyncClient,
                                                       clock: ManualClock) -> None:
        for _ in range(3):
            await client.get(RAIR_TOKEN_PATH)

        assert (await client.get(RAIR_TOKEN_PATH)).status_code == 429
        assert (await other_client.get(RAIR_TOKEN_PATH)).status_code == 200
        clock.advance(60)
        assert (await client.get(RAIR_TOKEN_PATH)).status_code == 200

    async def test_a_page_on_another_origin_can_read_the_429(self, client: ApiClient) -> None:
        # Without CORS headers a browser hides the answer from the page as a network error.
        origin = {"Origin": "https://app.example"}
        answers = [await client.get(RAIR_TOKEN_PATH, headers=origin) for _ in range(4)]

        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert {a.headers.get("access-control-allow-origin") for a in answers} == {"*"}
        assert {a.headers["vary"] for a in answers} == {"Origin"}
        exposed = {name.strip().lower() for name in answers[3].headers["access-control-expose-headers"].split(",")}
        assert {"ratelimit", "retry-after"} <= exposed

    async def test_other_apis_are_not_limited(self, client: ApiClient) -> None:
        for _ in range(3):
            await client.get(RAIR_TOKEN_PATH)

        other = await client.get(TKN_PATH, headers={"Authorization": "Bearer tkn-admin-token"})
        assert other.status_code == 200
        assert "RateLimit" not in other.headers

    async def test_a_reset_forgets_what_was_spent(self, client: ApiClient, app: MockApp) -> None:
        for _ in range(4):
            await client.get(RAIR_TOKEN_PATH)

        assert (await client.post("/__mock/reset", json={})).status_code == 204
        assert (await client.get(RAIR_TOKEN_PATH)).headers["RateLimit"] == "limit=3, remaining=2, reset=60"


class TestOffByDefault:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {}

    async def test_dev_has_no_limit_and_no_headers(self, client: ApiClient) -> None:
        answers = [await client.get(RAIR_TOKEN_PATH) for _ in range(5)]

        assert {a.status_code for a in answers} == {200}
        assert not any("RateLimit" in a.headers for a in answers)

    async def test_turned_on_while_the_server_runs(self, make_app: AppFactory) -> None:
        async with ApiClient(make_app()) as client:  # its own app: the settings change outlives the test
            patched = await client.patch("/__mock/settings",
                                         json={"rair": {"rate_limit": {"enabled": True, "limit": 1}}})
            first, second = await client.get(RAIR_TOKEN_PATH), await client.get(RAIR_TOKEN_PATH)

        assert patched.status_code == 200
        assert (first.status_code, second.status_code) == (200, 429)

    async def test_realistic_preset_turns_rairs_limit_on(self, clock: ManualClock) -> None:
        app = create_app(load_settings(environ={}, preset="realistic"), clock=clock)

        async with ApiClient(app) as realistic:
            response = await realistic.get(RAIR_TOKEN_PATH)

        assert response.headers["RateLimit"] == "limit=500, remaining=499, reset=60"
        assert response.headers["RateLimit-Policy"] == "500;w=60"
