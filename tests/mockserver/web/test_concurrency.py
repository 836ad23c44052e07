"""Concurrent requests through the ASGI app: every update applied, and the quota exact."""

from __future__ import annotations

import asyncio
import hashlib
import json
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
    immutable_service,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.anyio


class TestConcurrentUpdates:
    """Updates racing each other are all applied; none is lost to another's write."""

    async def test_tokenization_uploads(self, client: ApiClient) -> None:
        async def add(n: int) -> int:
            body = Multipart().fields({"name": "n", "description": "d"}).file(
                "images", f"{n}.png", media.png(n + 1, 1), "image/png")
            return (await client.put(TKN_PATH, **body.request_kwargs(tkn_headers()))).status_code

        statuses = await asyncio.gather(*(add(n) for n in range(30)))
        images = (await client.get(TKN_PATH, headers=tkn_headers())).json()["meta"]["images"]

        assert statuses == [200] * 30
        added = {hashlib.sha256(media.png(n + 1, 1)).hexdigest() for n in range(30)}
        assert {a["hash"] for a in images[1:]} == added
        assert len({a["id"] for a in images}) == 31

    async def test_rair_fields(self, client: ApiClient) -> None:
        updates = {"name": "N", "description": "D", "artist": "A", "external_url": "E",
                   "image": "https://x.test/i.png", "animation_url": "https://x.test/a.mp4",
                   "attributes": json.dumps([{"trait_type": "t", "value": "v"}])}

        async def update(field: str, value: str) -> int:
            body = Multipart().field(field, value)
            return (await client.post(RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers()))).status_code

        statuses = await asyncio.gather(*(update(f, v) for f, v in updates.items()))
        metadata = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]["metadata"]

        assert statuses == [200] * len(updates)
        assert metadata == {**updates, "attributes": [{"trait_type": "t", "value": "v"}]}

    async def test_immutable_refreshes_of_distinct_tokens(self, client: ApiClient) -> None:
        responses = await asyncio.gather(*(
            client.post(IMX_REFRESH, json=refresh_body(str(n), name=f"Name {n}"), headers=imx_headers())
            for n in range(1, 21)
        ))
        listed = (await client.get(IMX_BASE, params={"page_size": 50})).json()["result"]

        assert [r.status_code for r in responses] == [202] * 20
        assert sorted(r.headers["imx-remaining-refreshes"] for r in responses) == sorted(
            str(1000 - n) for n in range(1, 21))
        assert {n["token_id"]: n["name"] for n in listed} == {str(n): f"Name {n}" for n in range(1, 21)}


@pytest.mark.parametrize(("requests", "limit"), [(12, 5), (3, 5), (5, 5), (40, 1)])
async def test_concurrent_refreshes_against_the_quota(app_for: Any, requests: int, limit: int) -> None:
    """N concurrent refreshes against a remaining quota of L give exactly min(N, L) 202s."""
    app: MockApp = app_for({"immutable.rate_limit.limit": limit})

    async with ApiClient(app) as client:
        responses = await asyncio.gather(*(
            client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers()) for _ in range(requests)
        ))

    accepted = [r for r in responses if r.status_code == 202]
    refused = [r for r in responses if r.status_code == 429]
    assert len(accepted) == min(requests, limit)
    assert len(refused) == requests - len(accepted)
    # Each accepted request saw its own count: what remained after it, each value once.
    assert sorted(int(r.headers["imx-remaining-refreshes"]) for r in accepted) == list(range(limit - len(accepted),
                                                                                             limit))
    assert all(r.json()["code"] == "TOO_MANY_REQUESTS_ERROR" for r in refused)
    assert immutable_service(app.services).limiter.peek("project-alpha").remaining == limit - len(accepted)
