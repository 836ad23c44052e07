"""Request size caps hold whether the body announces its length or streams in chunks without one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mockserver.web import MockApp
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    Multipart,
    assert_error,
    chunks,
    imx_headers,
    rair_headers,
    refresh_body,
    rejected_without_change,
    tkn_headers,
)

pytestmark = pytest.mark.anyio


async def stream(data: bytes, size: int = 512) -> AsyncIterator[bytes]:
    """The body as an async generator: httpx sends it chunked, with no Content-Length."""
    for chunk in chunks(data, size):
        yield chunk


def upload(size: int) -> Multipart:
    padding = b"\0" * max(0, size - len(media.png(8, 8)))
    return Multipart().fields({"name": "n", "description": "d"}).file("images", "big.png", media.png(8, 8) + padding,
                                                                        "image/png")


class TestTokenizationRequestCap:
    """`tokenization.max_request_bytes` bounds the whole request: 413 in the API's shape, nothing stored."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"tokenization.max_request_bytes": 1000}

    async def test_declared_length_over_cap(self, client: ApiClient, app: MockApp) -> None:
        body = upload(5000)

        response = await rejected_without_change(app, client.put(TKN_PATH, **body.request_kwargs(tkn_headers())))

        assert_error(response, 413, "1000 bytes")

    async def test_streamed_body_over_cap(self, client: ApiClient, app: MockApp) -> None:
        body = upload(5000)
        headers = {**tkn_headers(), "content-type": body.content_type}

        response = await rejected_without_change(app, client.put(TKN_PATH, content=stream(body.body()),
                                                                 headers=headers))

        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_error(response, 413, "1000 bytes")

    async def test_streamed_body_under_cap_is_accepted(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "Streamed", "description": "in chunks"}).file(
            "images", "s.png", media.png(2, 2), "image/png")
        headers = {**tkn_headers(), "content-type": body.content_type}

        response = await client.put(TKN_PATH, content=stream(body.body(), size=7), headers=headers)
        token = (await client.get(TKN_PATH, headers=tkn_headers())).json()

        assert response.status_code == 200
        assert token["name"] == "Streamed"
        assert hashlib.sha256(media.png(2, 2)).hexdigest() in [a["hash"] for a in token["meta"]["images"]]


class TestRairRequestCap:
    """RAIR's cap follows from its file limits; over it is 413 in RAIR's shape, streamed or not."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rair.max_files": 1, "rair.max_file_bytes": 1000}

    @pytest.mark.parametrize("streamed", [False, True])
    async def test_over_cap(self, client: ApiClient, app: MockApp, streamed: bool) -> None:
        body = Multipart().field("name", "x").file("files", "huge.png", media.png() + b"\0" * (2 * 1024 * 1024),
                                                    "image/png")
        headers = {**rair_headers(), "content-type": body.content_type}
        content: Any = stream(body.body(), 65536) if streamed else body.body()

        response = await rejected_without_change(app, client.post(RAIR_TOKEN_PATH, content=content, headers=headers))

        assert_error(response, 413, "larger than")

    async def test_streamed_update_is_accepted(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "Chunked", "image": "c.png"})
        body.file("files", "c.png", media.png(), "image/png")
        headers = {**rair_headers(), "content-type": body.content_type}

        response = await client.post(RAIR_TOKEN_PATH, content=stream(body.body(), 100), headers=headers)

        assert response.status_code == 200
        assert response.json()["token"]["metadata"]["name"] == "Chunked"
        assert (await client.get(response.json()["token"]["metadata"]["image"])).content == media.png()


class TestImmutableBodyCap:
    """Immutable has no 413: an oversized body is 400 VALIDATION_ERROR, streamed or not."""

    async def test_streamed_refresh_is_accepted(self, client: ApiClient) -> None:
        content = json.dumps(refresh_body("3", name="Streamed")).encode()

        response = await client.post(IMX_REFRESH, content=stream(content, 10),
                                     headers={**imx_headers(), "content-type": "application/json"})

        assert response.status_code == 202
        assert (await client.get(f"{IMX_BASE}/3")).json()["result"]["name"] == "Streamed"

    async def test_streamed_body_over_cap(self, client: ApiClient, app: MockApp) -> None:
        content = b'{"nft_metadata": [' + b" " * (2 * 1024 * 1024) + b"]}"

        response = await rejected_without_change(
            app, client.post(IMX_REFRESH, content=stream(content, 65536),
                             headers={**imx_headers(), "content-type": "application/json"})
        )

        assert_error(response, 400, "larger than", field="body")
