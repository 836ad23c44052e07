"""Every documented status of every operation is reachable, and what comes back is what the spec describes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import yaml

from tests.mockserver import media
from tests.mockserver.support import (
    IMX_ALPHA_READONLY,
    IMX_BASE,
    IMX_REFRESH,
    RAIR_COLLECTOR,
    RAIR_TOKEN_PATH,
    SPECS,
    TKN_PATH,
    ApiClient,
    Multipart,
    SpecViolation,
    check_against_spec,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.anyio

Send = Callable[[ApiClient], Any]
TKN_FORM = {"name": "n", "description": "d"}


def rair_post(form: Multipart, headers: dict[str, str] | None = None, path: str = RAIR_TOKEN_PATH) -> Send:
    return lambda c: c.post(path, **form.request_kwargs(rair_headers() if headers is None else headers))


def tkn_put(form: Multipart, headers: dict[str, str] | None = None, path: str = TKN_PATH) -> Send:
    return lambda c: c.put(path, **form.request_kwargs(tkn_headers() if headers is None else headers))


def refresh(body: Any, key: str | None = "sk_imapik-test-alpha-refresh", path: str = IMX_REFRESH) -> Send:
    return lambda c: c.post(path, json=body, headers=imx_headers(key) if key else {})


IMX_METADATA = IMX_BASE.replace("/nfts", "/metadata")
STACKED_ID = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"  # the stacked metadata of the default fixtures


def stacked_body(*metadata_ids: str) -> dict[str, Any]:
    return {"metadata": [{"metadata_id": metadata_id, "name": "x", "description": None, "image": None,
                          "external_url": None, "animation_url": None, "youtube_url": None, "attributes": None}
                         for metadata_id in metadata_ids]}


def refresh_stacked(body: Any, key: str | None = "sk_imapik-test-alpha-refresh") -> Send:
    return refresh(body, key, path=f"{IMX_METADATA}/refresh-metadata")


async def spend_then_refresh_stacked(client: ApiClient) -> httpx.Response:
    """A stacked refresh after the quota (of one) is spent by a refresh by token id."""
    await refresh(refresh_body("1"))(client)
    response: httpx.Response = await refresh_stacked(stacked_body(STACKED_ID))(client)
    return response


async def spend_then_refresh(client: ApiClient) -> httpx.Response:
    """A refresh after the quota (of one) is spent."""
    await refresh(refresh_body("1"))(client)
    response: httpx.Response = await refresh(refresh_body("1"))(client)
    return response


# RAIR's server-wide limit (`--preset realistic` has it at 500 a minute), at one request.
RAIR_LIMIT_OF_ONE = {"rair.rate_limit.enabled": True, "rair.rate_limit.limit": 1}


async def spend_then(client: ApiClient, request: Awaitable[httpx.Response]) -> httpx.Response:
    """`request` once an earlier request from the same client has spent RAIR's limit (of one)."""
    await client.get(RAIR_TOKEN_PATH)
    return await request


# (api, operationId, status, settings overrides, request): one realistic request per documented status.
MATRIX: list[tuple[str, str, int, dict[str, Any], Send]] = [
    ("rair", "getToken", 200, {}, lambda c: c.get(RAIR_TOKEN_PATH, headers=rair_headers())),
    ("rair", "getToken", 400, {}, lambda c: c.get(RAIR_TOKEN_PATH.replace("/0/", "/x/"), headers=rair_headers())),
    ("rair", "getToken", 429, RAIR_LIMIT_OF_ONE, lambda c: spend_then(c, c.get(RAIR_TOKEN_PATH))),
    ("rair", "getToken", 404, {}, lambda c: c.get(RAIR_TOKEN_PATH.replace("/token/1", "/token/9"),
                                                  headers=rair_headers())),
    ("rair", "updateTokenMetadata", 200, {}, rair_post(Multipart().field("name", "x"))),
    ("rair", "updateTokenMetadata", 400, {}, rair_post(Multipart().field("colour", "x"))),
    ("rair", "updateTokenMetadata", 401, {}, rair_post(Multipart().field("name", "x"), {})),
    ("rair", "updateTokenMetadata", 429, RAIR_LIMIT_OF_ONE,
     lambda c: spend_then(c, rair_post(Multipart().field("name", "x"))(c))),
    ("rair", "updateTokenMetadata", 403, {}, rair_post(Multipart().field("name", "x"), rair_headers(RAIR_COLLECTOR))),
    ("rair", "updateTokenMetadata", 404, {}, rair_post(Multipart().field("name", "x"),
                                                       path=RAIR_TOKEN_PATH.replace("/0/token", "/5/token"))),
    ("rair", "updateTokenMetadata", 413, {"rair.max_file_bytes": 10},
     rair_post(Multipart().field("image", "a.png").file("files", "a.png", media.png(), "image/png"))),
    ("rair", "updateTokenMetadata", 415, {},
     rair_post(Multipart().field("image", "a.txt").file("files", "a.txt", media.text(), "text/plain"))),
    ("immutable", "RefreshNFTMetadataByTokenID", 202, {}, refresh(refresh_body("1"))),
    ("immutable", "RefreshNFTMetadataByTokenID", 400, {}, refresh(refresh_body("7", "7"))),
    ("immutable", "RefreshNFTMetadataByTokenID", 401, {}, refresh(refresh_body("1"), key=None)),
    ("immutable", "RefreshNFTMetadataByTokenID", 403, {}, refresh(refresh_body("1"), key=IMX_ALPHA_READONLY)),
    ("immutable", "RefreshNFTMetadataByTokenID", 404, {},
     refresh(refresh_body("1"), path=IMX_REFRESH.replace("testnet", "moonnet"))),
    ("immutable", "RefreshNFTMetadataByTokenID", 429, {"immutable.rate_limit.limit": 1}, spend_then_refresh),
    ("immutable", "GetNFT", 200, {}, lambda c: c.get(f"{IMX_BASE}/1")),
    ("immutable", "GetNFT", 400, {}, lambda c: c.get(f"{IMX_BASE}/one")),
    ("immutable", "GetNFT", 404, {}, lambda c: c.get(f"{IMX_BASE}/404")),
    ("immutable", "ListNFTs", 200, {}, lambda c: c.get(IMX_BASE, params={"page_size": 1})),
    ("immutable", "ListNFTs", 400, {}, lambda c: c.get(IMX_BASE, params={"page_size": 500})),
    ("immutable", "ListNFTs", 404, {}, lambda c: c.get(IMX_BASE.replace("0x8a", "0x9a"))),
    ("immutable", "RefreshMetadataByID", 202, {}, refresh_stacked(stacked_body(STACKED_ID))),
    ("immutable", "RefreshMetadataByID", 400, {}, refresh_stacked(stacked_body(STACKED_ID, STACKED_ID))),
    ("immutable", "RefreshMetadataByID", 401, {}, refresh_stacked(stacked_body(STACKED_ID), key=None)),
    ("immutable", "RefreshMetadataByID", 403, {}, refresh_stacked(stacked_body(STACKED_ID), key=IMX_ALPHA_READONLY)),
    ("immutable", "RefreshMetadataByID", 404, {}, refresh_stacked(stacked_body(STACKED_ID[:-1] + "c"))),
    ("immutable", "RefreshMetadataByID", 429, {"immutable.rate_limit.limit": 1}, spend_then_refresh_stacked),
    ("immutable", "GetMetadata", 200, {}, lambda c: c.get(f"{IMX_METADATA}/{STACKED_ID}")),
    ("immutable", "GetMetadata", 400, {}, lambda c: c.get(f"{IMX_METADATA}/one")),
    ("immutable", "GetMetadata", 404, {}, lambda c: c.get(f"{IMX_METADATA}/{STACKED_ID[:-1]}c")),
    ("immutable", "ListMetadata", 200, {}, lambda c: c.get(IMX_METADATA, params={"page_size": 1})),
    ("immutable", "ListMetadata", 400, {}, lambda c: c.get(IMX_METADATA, params={"page_size": 500})),
    ("immutable", "ListMetadata", 404, {}, lambda c: c.get(IMX_METADATA.replace("0x8a", "0x9a"))),
    ("tokenization", "getToken", 200, {}, lambda c: c.get(TKN_PATH, headers=tkn_headers())),
    ("tokenization", "getToken", 400, {}, lambda c: c.get("/v2/admin/token/123", headers=tkn_headers())),
    ("tokenization", "getToken", 401, {}, lambda c: c.get(TKN_PATH, headers=tkn_headers("nobody"))),
    ("tokenization", "getToken", 404, {}, lambda c: c.get("/v2/admin/token/" + "0" * 24, headers=tkn_headers())),
    ("tokenization", "updateToken", 200, {}, tkn_put(Multipart().fields(TKN_FORM))),
    ("tokenization", "updateToken", 400, {}, tkn_put(Multipart().field("name", "n"))),
    ("tokenization", "updateToken", 401, {}, tkn_put(Multipart().fields(TKN_FORM), {})),
    ("tokenization", "updateToken", 404, {}, tkn_put(Multipart().fields(TKN_FORM), path="/v2/admin/token/" + "a" * 24)),
    ("tokenization", "updateToken", 413, {"tokenization.max_file_bytes": 10},
     tkn_put(Multipart().fields(TKN_FORM).file("images", "a.png", media.png(), "image/png"))),
    ("tokenization", "updateToken", 415, {},
     tkn_put(Multipart().fields(TKN_FORM).file("documents", "a.png", media.png(), "image/png"))),
]


def documented_statuses() -> set[tuple[str, str, int]]:
    found = set()
    for api in ("rair", "immutable", "tokenization"):
        spec = yaml.safe_load((SPECS / f"{api}.yaml").read_text(encoding="utf-8"))
        for item in spec["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    found |= {(api, operation["operationId"], int(code)) for code in operation["responses"]}
    return found


class TestMatrix:
    """One realistic request per documented status, each answer checked against the spec by the client."""

    def test_matrix_covers_every_documented_status_but_500(self) -> None:
        covered = {(api, operation, status) for api, operation, status, _, _ in MATRIX}

        assert covered == {entry for entry in documented_statuses() if entry[2] != 500}

    @pytest.mark.parametrize(
        ("api", "operation", "status", "overrides", "send"), MATRIX,
        ids=[f"{api}-{operation}-{status}" for api, operation, status, _, _ in MATRIX],
    )
    async def test_status(self, app_for: Any, api: str, operation: str, status: int, overrides: dict[str, Any],
                          send: Send) -> None:
        async with ApiClient(app_for(overrides)) as client:
            response = await send(client)
            checked = client.checked

        assert response.status_code == status, response.text
        assert checked >= 1


class TestChecker:
    """The spec check itself rejects responses that break the spec, so the suite cannot pass vacuously."""

    @staticmethod
    def response(status: int, path: str, *, method: str = "GET", **kwargs: Any) -> httpx.Response:
        return httpx.Response(status, request=httpx.Request(method, f"http://mock.test{path}"), **kwargs)

    def test_conforming_response_passes(self) -> None:
        check_against_spec(self.response(404, RAIR_TOKEN_PATH,
                                         json={"success": False, "error": True, "message": "no"}))

    @pytest.mark.parametrize(
        ("status", "path", "method", "kwargs"),
        [
            (200, RAIR_TOKEN_PATH, "GET", {"json": {"success": True}}),
            (404, RAIR_TOKEN_PATH, "GET", {"json": {"message": "no"}}),
            (418, RAIR_TOKEN_PATH, "GET", {"json": {"success": False, "error": True, "message": "teapot"}}),
            (202, IMX_REFRESH, "POST", {"json": {"imx_refreshes_limit": 5, "imx_refresh_limit_reset": "x",
                                                 "imx_remaining_refreshes": "4", "retry_after": "0"}}),
            (404, f"{IMX_BASE}/9", "GET", {"json": {"message": "m", "link": "l", "trace_id": "t",
                                                    "code": "NOT_FOUND", "details": None}}),
            (400, TKN_PATH, "PUT", {"json": {"status": 400, "message": "m"}}),
            (200, TKN_PATH, "GET", {"json": {"id": "x"}}),
        ],
    )
    def test_violations_are_caught(self, status: int, path: str, method: str, kwargs: dict[str, Any]) -> None:
        with pytest.raises(SpecViolation):
            check_against_spec(self.response(status, path, method=method, **kwargs))

    def test_files_are_outside_the_specs(self) -> None:
        check_against_spec(self.response(200, "/files/abc", content=b"\x89PNG"))


class TestServedSpecs:
    """The server publishes the specs it implements, with its configured limits written in."""

    @pytest.mark.parametrize("api", ["rair", "immutable", "tokenization"])
    async def test_served_spec_has_the_same_operations(self, app_for: Any, api: str) -> None:
        on_disk = yaml.safe_load((SPECS / f"{api}.yaml").read_text(encoding="utf-8"))

        async with ApiClient(app_for({"rair.max_files": 5})) as client:
            served = (await client.get(f"/openapi/{api}.json")).json()

        assert set(served["paths"]) == set(on_disk["paths"])
        if api == "rair":
            assert served["components"]["schemas"]["TokenMetadataUpdate"]["properties"]["files"]["maxItems"] == 5


class TestServerSideResponseValidation:
    """With `validate_responses` on, Connexion checks the mock's own answers and the happy paths still pass."""

    async def test_happy_paths(self, app_for: Any) -> None:
        async with ApiClient(app_for({"validate_responses": True})) as client:
            statuses = [
                (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).status_code,
                (await rair_post(Multipart().field("name", "x"))(client)).status_code,
                (await refresh(refresh_body("1"))(client)).status_code,
                (await client.get(f"{IMX_BASE}/1")).status_code,
                (await client.get(IMX_BASE)).status_code,
                (await tkn_put(Multipart().fields(TKN_FORM).file("images", "a.png", media.png(), "image/png"))(
                    client)).status_code,
                (await client.get(TKN_PATH, headers=tkn_headers())).status_code,
            ]

        assert statuses == [200, 200, 202, 200, 200, 200, 200]
