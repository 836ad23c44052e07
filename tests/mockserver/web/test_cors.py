"""CORS: preflights answered for every API, and every response (errors included) readable by browser scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from mockserver.web import MockApp
from tests.mockserver import media
from tests.mockserver.conftest import AppFactory
from tests.mockserver.support import (
    IMX_BASE,
    IMX_CHAIN,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    Multipart,
    assert_error,
    imx_headers,
    rair_headers,
    refresh_body,
)

pytestmark = pytest.mark.anyio

ORIGIN = "https://wallet.example"
EXPOSED = {"imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes", "retry-after",
           "ratelimit", "ratelimit-policy"}
RATE_HEADERS = ("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes", "retry-after")

# Each API's write operation and the request headers a browser client sends with it.
WRITES = [
    pytest.param("POST", RAIR_TOKEN_PATH, ["x-rair-token", "content-type"], id="rair"),
    pytest.param("POST", IMX_REFRESH, ["x-immutable-api-key", "content-type", "x-sdk-version"], id="immutable"),
    pytest.param("PUT", TKN_PATH, ["authorization", "content-type", "prefer"], id="tokenization"),
]


@pytest.fixture
async def raw(app: MockApp) -> AsyncIterator[ApiClient]:
    """A client that does not check responses against the specs, which do not describe preflights."""
    async with ApiClient(app, validate=False) as client:
        yield client


def listed(response: httpx.Response, header: str) -> set[str]:
    """The comma-separated values of a response header, lower-cased."""
    return {value.strip().lower() for value in response.headers.get(header, "").split(",") if value.strip()}


def preflight(method: str, headers: Sequence[str], origin: str = ORIGIN) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": method,
            "access-control-request-headers": ", ".join(headers)}


def assert_cors(response: httpx.Response, origin: str = "*") -> None:
    assert response.headers.get("access-control-allow-origin") == origin, response.headers
    assert listed(response, "access-control-expose-headers") >= EXPOSED, response.headers


class TestPreflight:
    """OPTIONS with Access-Control-Request-Method is answered by CORS, never by the method guard or auth."""

    @pytest.mark.parametrize(("method", "path", "headers"), WRITES)
    async def test_the_write_operation_of_each_api(self, raw: ApiClient, method: str, path: str,
                                                   headers: list[str]) -> None:
        response = await raw.options(path, headers=preflight(method, headers))

        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        assert method.lower() in listed(response, "access-control-allow-methods")
        assert set(headers) <= listed(response, "access-control-allow-headers")
        assert {"x-rair-token", "x-immutable-api-key", "authorization", "content-type", "prefer"} <= listed(
            response, "access-control-allow-headers")
        assert int(response.headers["access-control-max-age"]) > 0

    async def test_a_preflight_neither_authenticates_nor_counts_against_the_quota(self, raw: ApiClient,
                                                                                 client: ApiClient) -> None:
        for _ in range(3):
            assert (await raw.options(IMX_REFRESH, headers=preflight("POST", ["x-immutable-api-key"]))).is_success

        accepted = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert accepted.status_code == 202
        limit = int(accepted.headers["imx-refreshes-limit"])
        assert int(accepted.headers["imx-remaining-refreshes"]) == limit - 1

    async def test_a_plain_options_request_is_still_405_with_cors_headers(self, raw: ApiClient) -> None:
        response = await raw.options(IMX_REFRESH, headers={"origin": ORIGIN})

        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert_cors(response)


class TestActualResponses:
    """Successes and the APIs' errors carry Access-Control-Allow-Origin and expose the rate headers."""

    async def test_202_exposes_the_rate_headers(self, client: ApiClient) -> None:
        response = await client.post(IMX_REFRESH, json=refresh_body("1", name="CORS"),
                                     headers={**imx_headers(), "origin": ORIGIN})

        assert response.status_code == 202
        assert all(header in response.headers for header in RATE_HEADERS)
        assert_cors(response)

    async def test_reads_of_every_api(self, client: ApiClient) -> None:
        for path, headers in ((f"{IMX_BASE}/1", {}), (RAIR_TOKEN_PATH, rair_headers()),
                              (TKN_PATH, {"authorization": "Bearer tkn-admin-token"})):
            response = await client.get(path, headers={**headers, "origin": ORIGIN})

            assert response.status_code == 200, (path, response.text)
            assert_cors(response)

    @pytest.mark.parametrize(("path", "headers"), [
        pytest.param(IMX_REFRESH, {}, id="immutable"),
        pytest.param(RAIR_TOKEN_PATH, rair_headers("nobody"), id="rair"),
    ])
    async def test_401(self, client: ApiClient, path: str, headers: dict[str, str]) -> None:
        response = await client.post(path, json=refresh_body("1"), headers={**headers, "origin": ORIGIN})

        assert response.status_code == 401
        assert_cors(response)

    async def test_401_of_tokenization(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "x", "description": "y"})
        response = await client.put(TKN_PATH, **body.request_kwargs({"authorization": "Bearer wrong",
                                                                     "origin": ORIGIN}))

        assert_error(response, 401)
        assert_cors(response)

    async def test_404(self, client: ApiClient) -> None:
        response = await client.get(f"/v1/chains/{IMX_CHAIN}/collections/0x{'0' * 40}/nfts/1",
                                    headers={"origin": ORIGIN})

        assert_error(response, 404)
        assert_cors(response)

    async def test_404_outside_the_apis(self, raw: ApiClient) -> None:
        response = await raw.get("/no/such/path", headers={"origin": ORIGIN})

        assert response.status_code == 404
        assert_cors(response)

    async def test_the_specs_and_stored_files(self, raw: ApiClient) -> None:
        upload = Multipart().fields({"name": "CORS", "image": "c.png"}).file("files", "c.png", media.png(),
                                                                            "image/png")
        updated = await raw.post(RAIR_TOKEN_PATH, **upload.request_kwargs(rair_headers()))
        image = updated.json()["token"]["metadata"]["image"]

        for path in ("/openapi/immutable.json", image):
            response = await raw.get(path, headers={"origin": ORIGIN})

            assert response.status_code == 200, path
            assert_cors(response)


class TestTooManyRequests:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.rate_limit.limit": 1}

    async def test_429_exposes_retry_after(self, client: ApiClient) -> None:
        headers = {**imx_headers(), "origin": ORIGIN}
        assert (await client.post(IMX_REFRESH, json=refresh_body("1"), headers=headers)).status_code == 202

        refused = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=headers)

        assert_error(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert_cors(refused)


class TestRestrictedOrigins:
    """With a list of origins, only those get Access-Control-Allow-Origin."""

    ALLOWED = "https://allowed.example"

    @pytest.fixture
    async def restricted(self, make_app: AppFactory) -> AsyncIterator[ApiClient]:
        async with ApiClient(make_app({"cors_origins": self.ALLOWED}), validate=False) as client:
            yield client

    async def test_an_allowed_origin_is_echoed(self, restricted: ApiClient) -> None:
        response = await restricted.get(f"{IMX_BASE}/1", headers={"origin": self.ALLOWED})

        assert response.status_code == 200
        assert_cors(response, self.ALLOWED)
        assert "origin" in listed(response, "vary")

    async def test_a_disallowed_origin_gets_no_allow_origin(self, restricted: ApiClient) -> None:
        read = await restricted.get(f"{IMX_BASE}/1", headers={"origin": ORIGIN})
        refused = await restricted.post(IMX_REFRESH, json=refresh_body("1"), headers={"origin": ORIGIN})
        flight = await restricted.options(IMX_REFRESH, headers=preflight("POST", ["x-immutable-api-key"]))

        assert read.status_code == 200
        assert refused.status_code == 401
        assert flight.status_code == 400
        for response in (read, refused, flight):
            assert "access-control-allow-origin" not in response.headers

    async def test_an_allowed_origin_gets_its_preflight(self, restricted: ApiClient) -> None:
        response = await restricted.options(
            IMX_REFRESH, headers=preflight("POST", ["x-immutable-api-key", "content-type"], self.ALLOWED))

        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == self.ALLOWED
