"""Immutable zkEVM through the ASGI app: refresh under a per-project quota, and the reads that show its effect."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest

from mockserver.clock import ManualClock
from mockserver.web import MockApp
from tests.mockserver.support import (
    IMX_ALPHA,
    IMX_ALPHA_READONLY,
    IMX_BASE,
    IMX_BETA,
    IMX_BETA_COLLECTION,
    IMX_CHAIN,
    IMX_COLLECTION,
    IMX_REFRESH,
    ApiClient,
    assert_error,
    imx_headers,
    nft,
    nft_item,
    refresh_body,
    rejected_without_change,
)

pytestmark = pytest.mark.anyio

GO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})? \+0000 UTC$")
RATE_HEADERS = ("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes", "retry-after")
BETA_REFRESH = f"/v1/chains/{IMX_CHAIN}/collections/{IMX_BETA_COLLECTION}/nfts/refresh-metadata"
MAINNET_BASE = "/v1/chains/imtbl-zkevm-mainnet/collections/0x0c7a2c3f7b5a19ffe1e3f8b8ac0c8a6c2b0e5d41/nfts"


async def refresh(client: ApiClient, body: Any, *, key: str = IMX_ALPHA, path: str = IMX_REFRESH) -> httpx.Response:
    return await client.post(path, json=body, headers=imx_headers(key))


class TestRefresh:
    """A 202 accepts the refresh; with no delay configured the next read shows the new metadata."""

    async def test_refresh_then_read(self, client: ApiClient) -> None:
        attributes = [{"trait_type": "Damage", "value": 99, "display_type": "number"},
                      {"trait_type": "Rare", "value": True}]
        body = refresh_body("1", name="Great Sword", description="Sharper", image="https://x.test/s.png",
                            external_url="https://x.test/s", animation_url="https://x.test/s.mp4",
                            youtube_url="https://youtu.be/x", attributes=attributes)

        accepted = await refresh(client, body)
        got = await nft(client, "1")

        assert accepted.status_code == 202
        assert {key: got[key] for key in ("name", "description", "image", "external_url", "animation_url",
                                          "youtube_url", "attributes")} == {
            "name": "Great Sword", "description": "Sharper", "image": "https://x.test/s.png",
            "external_url": "https://x.test/s", "animation_url": "https://x.test/s.mp4",
            "youtube_url": "https://youtu.be/x", "attributes": attributes,
        }
        assert got["external_link"] == "https://x.test/s"
        assert got["metadata_synced_at"] == got["updated_at"] == "2026-01-01T00:00:00.000000Z"
        assert got["token_id"] == "1"
        assert got["chain"] == {"id": "eip155:13473", "name": IMX_CHAIN}

    async def test_many_items_in_one_request(self, client: ApiClient) -> None:
        accepted = await refresh(client, refresh_body("1", "2", "3", description="batch"))
        listed = await client.get(IMX_BASE)

        assert accepted.status_code == 202
        assert [item["description"] for item in listed.json()["result"][:3]] == ["batch"] * 3
        assert [item["name"] for item in listed.json()["result"][:3]] == ["NFT 1", "NFT 2", "NFT 3"]

    async def test_other_nfts_are_untouched(self, client: ApiClient) -> None:
        await refresh(client, refresh_body("1"))

        assert (await nft(client, "2"))["name"] == "Shield"

    async def test_refresh_indexes_an_unseen_token(self, client: ApiClient) -> None:
        big = str(2**256 - 1)
        assert (await client.get(f"{IMX_BASE}/{big}")).status_code == 404

        await refresh(client, refresh_body(big, name="Max"))
        got = await nft(client, big)

        assert got["name"] == "Max"
        assert got["token_id"] == big
        assert got["indexed_at"] == "2026-01-01T00:00:00.000000Z"

    async def test_null_attributes_read_back_as_empty_list(self, client: ApiClient) -> None:
        await refresh(client, refresh_body("1", attributes=None))

        assert (await nft(client, "1"))["attributes"] == []

    async def test_keys_outside_the_metadata_are_not_stored(self, client: ApiClient) -> None:
        body = {"nft_metadata": [{**nft_item("1"), "colour": "red", "contract_type": "ERC1155"}]}

        accepted = await refresh(client, body)
        got = await nft(client, "1")

        assert accepted.status_code == 202
        assert "colour" not in got
        assert got["contract_type"] == "ERC721"

    async def test_address_in_upper_case(self, client: ApiClient) -> None:
        path = IMX_REFRESH.replace(IMX_COLLECTION, "0x" + IMX_COLLECTION[2:].upper())

        assert (await refresh(client, refresh_body("1"), path=path)).status_code == 202
        assert (await nft(client, "1"))["name"] == "NFT 1"

    async def test_body_without_content_type_is_read_as_json(self, client: ApiClient) -> None:
        response = await client.post(IMX_REFRESH, content=httpx.Request("POST", "/", json=refresh_body("2")).content,
                                     headers=imx_headers())

        assert response.status_code == 202
        assert (await nft(client, "2"))["name"] == "NFT 2"


class TestRefreshDelay:
    """With a refresh delay the old metadata shows until the delay has passed."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.refresh_delay": 30}

    async def test_delay(self, client: ApiClient, clock: ManualClock) -> None:
        clock.advance(5)
        accepted = await refresh(client, refresh_body("1", name="Later"))

        clock.advance(29.999)
        before = await nft(client, "1")
        listed_before = (await client.get(IMX_BASE)).json()["result"][0]
        clock.advance(0.001)
        after = await nft(client, "1")

        assert accepted.status_code == 202
        assert before["name"] == listed_before["name"] == "Sword"
        assert before["metadata_synced_at"] == "2026-01-01T00:00:00.000000Z"
        assert after["name"] == "Later"
        assert after["metadata_synced_at"] == after["updated_at"] == "2026-01-01T00:00:35.000000Z"

    async def test_pending_refresh_of_unseen_token_is_invisible_until_due(
        self, client: ApiClient, clock: ManualClock
    ) -> None:
        await refresh(client, refresh_body("77"))

        assert (await client.get(f"{IMX_BASE}/77")).status_code == 404
        clock.advance(30)
        assert (await nft(client, "77"))["name"] == "NFT 77"


class TestRateHeaders:
    """Every 202 carries the quota in four headers, mirrored in its body."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.rate_limit.limit": 5}

    async def test_headers_count_down_and_reset_is_stable(self, client: ApiClient, clock: ManualClock) -> None:
        responses = []
        for _ in range(5):
            responses.append(await refresh(client, refresh_body("1")))
            clock.advance(60)

        assert [r.status_code for r in responses] == [202] * 5
        assert [r.headers["imx-remaining-refreshes"] for r in responses] == ["4", "3", "2", "1", "0"]
        assert {r.headers["imx-refreshes-limit"] for r in responses} == {"5"}
        assert {r.headers["imx-refresh-limit-reset"] for r in responses} == {"2026-01-01 01:00:00 +0000 UTC"}
        assert [r.headers["retry-after"] for r in responses[:4]] == ["0"] * 4
        # The last one leaves nothing: the wait is what remains of the window (one hour minus 4 minutes).
        assert responses[4].headers["retry-after"] == str(3600 - 240)
        for response in responses:
            assert response.json() == {name.replace("-", "_"): response.headers[name] for name in RATE_HEADERS}

    async def test_reset_time_in_go_format_with_microseconds(self, client: ApiClient, clock: ManualClock) -> None:
        clock.advance(0.401553)

        response = await refresh(client, refresh_body("1"))

        reset = response.headers["imx-refresh-limit-reset"]
        assert GO_TIME.match(reset)
        assert reset == "2026-01-01 01:00:00.401553 +0000 UTC"
        assert response.json()["imx_refresh_limit_reset"] == reset

    async def test_trailing_zeros_of_the_fraction_are_dropped(self, client: ApiClient, clock: ManualClock) -> None:
        clock.advance(0.5)

        response = await refresh(client, refresh_body("1"))

        assert response.headers["imx-refresh-limit-reset"] == "2026-01-01 01:00:00.5 +0000 UTC"

    async def test_exhausted_quota_is_429(self, client: ApiClient, app: MockApp, clock: ManualClock) -> None:
        for _ in range(5):
            assert (await refresh(client, refresh_body("1"))).status_code == 202
        clock.advance(600.25)

        refused = await rejected_without_change(app, refresh(client, refresh_body("2", name="Refused")))

        assert_error(refused, 429, "too many", "5")
        assert refused.headers["imx-remaining-refreshes"] == "0"
        assert refused.headers["imx-refreshes-limit"] == "5"
        assert refused.headers["imx-refresh-limit-reset"] == "2026-01-01 01:00:00 +0000 UTC"
        retry_after = int(refused.headers["Retry-After"])
        assert retry_after == math.ceil(3600 - 600.25) == 3000
        assert (await nft(client, "2"))["name"] == "Shield"

    async def test_quota_returns_after_retry_after(self, client: ApiClient, clock: ManualClock) -> None:
        for _ in range(5):
            await refresh(client, refresh_body("1"))
        clock.advance(3599)
        refused = await refresh(client, refresh_body("1"))
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"

        clock.advance(int(refused.headers["Retry-After"]))
        accepted = await refresh(client, refresh_body("1"))

        assert accepted.status_code == 202
        assert accepted.headers["imx-remaining-refreshes"] == "4"
        assert accepted.headers["imx-refresh-limit-reset"] == "2026-01-01 02:00:00 +0000 UTC"

    async def test_rejected_requests_do_not_count(self, client: ApiClient) -> None:
        await client.post(IMX_REFRESH, json=refresh_body("1"))  # 401
        await refresh(client, refresh_body("1"), key=IMX_ALPHA_READONLY)  # 403
        await refresh(client, {"nft_metadata": []})  # 400
        await refresh(client, refresh_body("1"), path=IMX_REFRESH.replace(IMX_CHAIN, "nochain"))  # 404

        accepted = await refresh(client, refresh_body("1"))

        assert accepted.headers["imx-remaining-refreshes"] == "4"

    async def test_one_request_counts_once_whatever_its_size(self, client: ApiClient) -> None:
        accepted = await refresh(client, refresh_body(*[str(n) for n in range(250)], description=None))

        assert accepted.status_code == 202
        assert accepted.headers["imx-remaining-refreshes"] == "4"

    async def test_quota_is_per_project(self, client: ApiClient) -> None:
        for _ in range(5):
            await refresh(client, refresh_body("1"))

        assert (await refresh(client, refresh_body("1"))).status_code == 429
        beta = await refresh(client, refresh_body("1"), key=IMX_BETA, path=BETA_REFRESH)
        assert beta.status_code == 202
        assert beta.headers["imx-remaining-refreshes"] == "4"


class TestSlidingWindow:
    """With the sliding strategy each refresh frees its slot a window after it was made."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.rate_limit.limit": 2, "immutable.rate_limit.window": 60,
                "immutable.rate_limit.strategy": "sliding-window"}

    async def test_sliding(self, client: ApiClient, clock: ManualClock) -> None:
        first = await refresh(client, refresh_body("1"))
        clock.advance(30)
        second = await refresh(client, refresh_body("1"))
        clock.advance(1)
        third = await refresh(client, refresh_body("1"))
        clock.advance(29)
        fourth = await refresh(client, refresh_body("1"))

        assert [r.status_code for r in (first, second, third, fourth)] == [202, 202, 429, 202]
        assert first.headers["imx-refreshes-limit"] == "2"
        assert second.headers["imx-remaining-refreshes"] == "0"
        assert int(third.headers["Retry-After"]) >= 1


class TestAuth:
    """Refresh needs a known key (401) with the scope, of the project owning the collection (403)."""

    async def test_missing_key(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(app, client.post(IMX_REFRESH, json=refresh_body("1")))

        assert_error(response, 401, "x-immutable-api-key")

    async def test_unknown_key(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(app, refresh(client, refresh_body("1"), key="sk_imapik-forged"))

        assert_error(response, 401, "API key")

    async def test_key_without_scope(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(app, refresh(client, refresh_body("1"), key=IMX_ALPHA_READONLY))

        assert_error(response, 403, "refresh:metadata")

    async def test_project_does_not_own_collection(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(app, refresh(client, refresh_body("1"), path=BETA_REFRESH))

        assert_error(response, 403, IMX_BETA_COLLECTION)

    async def test_reads_are_public(self, client: ApiClient) -> None:
        assert (await client.get(f"{IMX_BASE}/1")).status_code == 200
        assert (await client.get(IMX_BASE)).status_code == 200


class TestNotFound:
    """Unknown chains, collections and tokens are 404 RESOURCE_NOT_FOUND."""

    @pytest.mark.parametrize(
        ("base", "words"),
        [
            (IMX_BASE.replace(IMX_CHAIN, "imtbl-zkevm-nowhere"), ("chain", "imtbl-zkevm-nowhere")),
            (IMX_BASE.replace(IMX_COLLECTION, "0x" + "1" * 40), ("collection", "0x" + "1" * 40)),
        ],
    )
    async def test_unknown_chain_or_collection(self, client: ApiClient, app: MockApp, base: str,
                                               words: tuple[str, ...]) -> None:
        refreshed = await rejected_without_change(app, refresh(client, refresh_body("1"),
                                                               path=f"{base}/refresh-metadata"))
        got = await client.get(f"{base}/1")
        listed = await client.get(base)

        for response in (refreshed, got, listed):
            assert_error(response, 404, *words, "not found")

    async def test_unknown_token(self, client: ApiClient) -> None:
        assert_error(await client.get(f"{IMX_BASE}/99"), 404, "NFT 99", "not found")

    async def test_collection_on_another_chain(self, client: ApiClient) -> None:
        response = await client.get(IMX_BASE.replace(IMX_CHAIN, "imtbl-zkevm-mainnet"))

        assert_error(response, 404, IMX_COLLECTION)

    async def test_trace_id_is_new_for_every_error(self, client: ApiClient) -> None:
        responses = [await client.get(f"{IMX_BASE}/99") for _ in range(3)]
        responses.append(await client.post(IMX_REFRESH, json=refresh_body("1")))
        responses.append(await refresh(client, {"nft_metadata": []}))

        trace_ids = [r.json()["trace_id"] for r in responses]
        assert len(set(trace_ids)) == len(trace_ids)
        assert all(re.fullmatch(r"[0-9a-f]{32}", trace_id) for trace_id in trace_ids)


class TestListNFTs:
    """ListNFTs pages through a collection in token-id order and filters by id and update time."""

    async def test_list_all(self, client: ApiClient) -> None:
        body = (await client.get(IMX_BASE)).json()

        assert [n["token_id"] for n in body["result"]] == ["1", "2", "3", "4", "5"]
        assert body["page"] == {"previous_cursor": None, "next_cursor": None}

    async def test_empty_collection(self, client: ApiClient) -> None:
        body = (await client.get(MAINNET_BASE)).json()

        assert body == {"result": [], "page": {"previous_cursor": None, "next_cursor": None}}

    async def test_pages(self, client: ApiClient) -> None:
        first = (await client.get(IMX_BASE, params={"page_size": 3})).json()
        second = (await client.get(IMX_BASE, params={"page_size": 3,
                                                     "page_cursor": first["page"]["next_cursor"]})).json()
        back = (await client.get(IMX_BASE, params={"page_size": 3,
                                                   "page_cursor": second["page"]["previous_cursor"]})).json()

        assert [n["token_id"] for n in first["result"]] == ["1", "2", "3"]
        assert first["page"]["previous_cursor"] is None
        assert [n["token_id"] for n in second["result"]] == ["4", "5"]
        assert second["page"]["next_cursor"] is None
        assert back["result"] == first["result"]

    async def test_filter_by_token_id(self, client: ApiClient) -> None:
        body = (await client.get(IMX_BASE, params=[("token_id", "3"), ("token_id", "1"), ("token_id", "8")])).json()

        assert [n["token_id"] for n in body["result"]] == ["1", "3"]

    async def test_filter_by_update_time(self, client: ApiClient, clock: ManualClock) -> None:
        clock.advance(3600)
        await refresh(client, refresh_body("2"))

        body = (await client.get(IMX_BASE, params={"from_updated_at": "2026-01-01T00:30:00Z"})).json()

        assert [n["token_id"] for n in body["result"]] == ["2"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"page_size": 0}, "page_size"),
            ({"page_size": 201}, "page_size"),
            ({"page_size": "ten"}, "page_size"),
            ({"page_cursor": "not-a-cursor"}, "page_cursor"),
            ({"page_cursor": "eyJvZmZzZXQiOiAtMX0="}, "page_cursor"),  # {"offset": -1}
            ({"from_updated_at": "yesterday"}, "from_updated_at"),
            ({"token_id": "x1"}, "token_id"),
            ([("token_id", str(n)) for n in range(31)], "token_id"),
        ],
    )
    async def test_bad_query(self, client: ApiClient, params: Any, field: str) -> None:
        assert_error(await client.get(IMX_BASE, params=params), 400, field, field=field)


class TestPathValidation:
    """Malformed path parameters are 400 VALIDATION_ERROR naming the parameter."""

    @pytest.mark.parametrize(
        ("path", "field"),
        [
            (f"{IMX_BASE}/abc", "token_id"),
            (f"{IMX_BASE}/01", "token_id"),
            (f"{IMX_BASE}/-1", "token_id"),
            (f"{IMX_BASE}/{2**256}", "token_id"),
            (f"{IMX_BASE}/1%0A", "token_id"),
            (IMX_BASE.replace(IMX_COLLECTION, "0x12"), "contract_address"),
            (IMX_BASE.replace(IMX_COLLECTION, IMX_COLLECTION + "%0A"), "contract_address"),
        ],
    )
    async def test_bad_path(self, client: ApiClient, path: str, field: str) -> None:
        assert_error(await client.get(path), 400, field, field=field)

    async def test_bad_address_on_refresh(self, client: ApiClient, app: MockApp) -> None:
        path = IMX_REFRESH.replace(IMX_COLLECTION, "0xnothex")

        response = await rejected_without_change(app, refresh(client, refresh_body("1"), path=path))

        assert_error(response, 400, "contract_address", field="contract_address")
