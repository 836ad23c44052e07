"""The real server: uvicorn on a free loopback port, one request per API over TCP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mockserver.testing import MockServer
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    Multipart,
    chunks,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A mock server on the wall clock, listening on a free port of 127.0.0.1 for the module's tests."""
    with MockServer(http=True) as server:
        yield server.base_url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


class TestOverTcp:
    """All three APIs answer on one port at their real paths."""

    def test_rair(self, http: httpx.Client) -> None:
        body = Multipart().fields({"name": "Over TCP", "image": "tcp.png"}).file("files", "tcp.png", media.png(),
                                                                               "image/png")

        updated = http.post(RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers()))
        image = http.get(updated.json()["token"]["metadata"]["image"])

        assert updated.status_code == 200
        assert updated.json()["token"]["metadata"]["image"].startswith(str(http.base_url).rstrip("/") + "/files/")
        assert (image.status_code, image.content) == (200, media.png())

    def test_immutable(self, http: httpx.Client) -> None:
        accepted = http.post(IMX_REFRESH, json=refresh_body("3", name="Over TCP"), headers=imx_headers())
        read = http.get(f"{IMX_BASE}/3")

        assert accepted.status_code == 202
        assert accepted.headers["retry-after"] == "0"
        assert int(accepted.headers["imx-remaining-refreshes"]) < int(accepted.headers["imx-refreshes-limit"])
        assert read.json()["result"]["name"] == "Over TCP"

    def test_tokenization_with_a_chunked_upload(self, http: httpx.Client) -> None:
        body = Multipart().fields({"name": "Over TCP", "description": "chunked"}).file(
            "documents", "tcp.pdf", media.pdf("tcp"), "application/pdf")

        updated = http.put(TKN_PATH, content=chunks(body.body(), 50),
                           headers={**tkn_headers(), "content-type": body.content_type})
        token = http.get(TKN_PATH, headers=tkn_headers()).json()

        assert updated.status_code == 200
        assert updated.request.headers["transfer-encoding"] == "chunked"
        assert token["description"] == "chunked"
        assert "tcp.pdf" in [d["name"] for d in token["meta"]["documents"]]

    def test_error_in_the_api_shape(self, http: httpx.Client) -> None:
        response = http.post(IMX_REFRESH, content=b"{", headers={**imx_headers(), "content-type": "application/json"})

        assert response.status_code == 400
        assert json.loads(response.text)["code"] == "VALIDATION_ERROR"
