"""Immutable's stacked metadata through the ASGI app: refresh by metadata id under the project's one budget, and
the metadata and NFT reads that show its effect. The vendor's published text (`tests/data/vendor/
immutable-stacked-metadata.openapi.json`) supplies the example request and the schemas the answers must meet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from mockserver.clock import ManualClock
from mockserver.web import MockApp
from tests.mockserver.support import (
    IMX_ALPHA,
    IMX_ALPHA_READONLY,
    IMX_BETA,
    IMX_CHAIN,
    IMX_COLLECTION,
    IMX_REFRESH,
    ApiClient,
    assert_error,
    imx_headers,
    nft,
    refresh_body,
    rejected_without_change,
)

pytestmark = pytest.mark.anyio

VENDOR = json.loads((Path(__file__).resolve().parents[2] / "data" / "vendor" /
                     "immutable-stacked-metadata.openapi.json").read_text(encoding="utf-8"))
METADATA_BASE = f"/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/metadata"
STACKED_REFRESH = f"{METADATA_BASE}/refresh-metadata"
# The stacked metadata of the default fixtures (the vendor's example id), carried by NFTs 4 and 5.
STACKED_ID = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def vendor_schema(name: str) -> jsonschema_rs.Validator:
    """A validator for one of the vendor's schemas, its references resolved within the vendor's document.

    OpenAPI 3.0's `nullable` is not JSON Schema: each nullable type is widened to admit null first."""

    def widen(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: widen(value) for key, value in node.items()}
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
                if "enum" in node:
                    node["enum"] = [*node["enum"], None]
            if "$ref" in node:
                node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
            return node
        if isinstance(node, list):
            return [widen(item) for item in node]
        return node

    schemas = widen(VENDOR["components"]["schemas"])
    return jsonschema_rs.validator_for({"$ref": f"#/$defs/{name}", "$defs": schemas})


def vendor_example_item() -> dict[str, Any]:
    """A `RefreshMetadataByID` item made of the vendor's own `example` values, field by field."""
    fields = VENDOR["components"]["schemas"]["NFTMetadataRequest"]["properties"]
    item = {name: field["example"] for name, field in fields.items() if "example" in field}
    attribute = VENDOR["components"]["schemas"]["NFTMetadataAttribute"]["properties"]
    item["attributes"] = [{name: field["example"] for name, field in attribute.items()}]
    item["metadata_id"] = VENDOR["components"]["schemas"]["MetadataID"]["example"]
    return item


def stacked_item(metadata_id: str = STACKED_ID, **values: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "metadata_id": metadata_id, "name": "Steel Helmet", "description": "refreshed", "image": None,
        "external_url": None, "animation_url": None, "youtube_url": None, "attributes": [],
    }
    item.update(values)
    return item


async def refresh_stacked(client: ApiClient, *items: dict[str, Any], key: str = IMX_ALPHA) -> Any:
    return await client.post(STACKED_REFRESH, json={"metadata": list(items)}, headers=imx_headers(key))


async def metadata(client: ApiClient, metadata_id: str = STACKED_ID) -> dict[str, Any]:
    response = await client.get(f"{METADATA_BASE}/{metadata_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


class TestVendorExamples:
    """A client written against the vendor's published text works unchanged."""

    async def test_the_vendors_example_refresh_shows_in_the_metadata_and_each_nft_carrying_it(
        self, client: ApiClient
    ) -> None:
        example = vendor_example_item()
        accepted = await client.post(STACKED_REFRESH, json={"metadata": [example]}, headers=imx_headers())

        assert accepted.status_code == 202, accepted.text
        assert vendor_schema("MetadataRefreshRateLimitResult").is_valid(accepted.json())
        read = (await client.get(f"{METADATA_BASE}/{example['metadata_id']}")).json()
        vendor_schema("GetMetadataResult").validate(read)
        assert read["result"]["name"] == example["name"] == "Sword"
        assert read["result"]["attributes"] == example["attributes"]
        for token_id in ("4", "5"):
            carried = await nft(client, token_id)
            assert carried["name"] == "Sword"
            assert carried["attributes"] == example["attributes"]
        assert (await nft(client, "1"))["name"] == "Sword"  # NFT 1 is a sword of its own, untouched
        assert (await nft(client, "2"))["name"] == "Shield"

    async def test_list_meets_the_vendors_schema(self, client: ApiClient) -> None:
        listed = (await client.get(METADATA_BASE)).json()

        vendor_schema("ListMetadataResult").validate(listed)
        assert [m["id"] for m in listed["result"]] == [STACKED_ID]
        assert listed["result"][0]["name"] == "Iron Helmet"


class TestStackedRefresh:
    async def test_nfts_carrying_the_metadata_show_its_fixture_values(self, client: ApiClient) -> None:
        assert (await nft(client, "4"))["name"] == (await nft(client, "5"))["name"] == "Iron Helmet"
        assert (await nft(client, "4"))["metadata_id"] == STACKED_ID

    async def test_unknown_metadata_id_is_404_and_nothing_is_refreshed(self, client: ApiClient, app: MockApp) -> None:
        request = refresh_stacked(client, stacked_item(), stacked_item(UNKNOWN_ID))
        response = await rejected_without_change(app, request)

        assert_error(response, 404, UNKNOWN_ID)
        assert (await metadata(client))["name"] == "Iron Helmet"

    async def test_get_of_unknown_metadata_id_is_404(self, client: ApiClient) -> None:
        assert_error(await client.get(f"{METADATA_BASE}/{UNKNOWN_ID}"), 404, UNKNOWN_ID)

    @pytest.mark.parametrize(("items", "field"), [
        ([stacked_item("not-a-uuid")], "metadata.0.metadata_id"),
        ([stacked_item(), stacked_item(STACKED_ID.upper())], "metadata.1.metadata_id"),
        ([stacked_item(UNKNOWN_ID[:-1] + str(i)) for i in range(10)] + [stacked_item()], "metadata"),
        ([stacked_item(description="x" * 17_000)], "metadata.0"),
    ], ids=["not-a-uuid", "twice", "eleven-items", "item-over-16-KiB"])
    async def test_bad_items_are_400_naming_the_field(
        self, client: ApiClient, app: MockApp, items: list[dict[str, Any]], field: str
    ) -> None:
        response = await rejected_without_change(app, refresh_stacked(client, *items))

        body = assert_error(response, 400)
        assert body["code"] == "VALIDATION_ERROR"
        assert body["details"]["field"].startswith(field), body

    async def test_malformed_metadata_id_in_the_path_is_400(self, client: ApiClient) -> None:
        body = assert_error(await client.get(f"{METADATA_BASE}/not-a-uuid"), 400)
        assert "metadata_id" in json.dumps(body["details"])

    @pytest.mark.parametrize(("key", "status"), [(None, 401), (IMX_ALPHA_READONLY, 403), (IMX_BETA, 403)])
    async def test_credentials_are_checked_like_the_refresh_by_token_id(
        self, client: ApiClient, app: MockApp, key: str | None, status: int
    ) -> None:
        headers = imx_headers(key) if key else {}
        request = client.post(STACKED_REFRESH, json={"metadata": [stacked_item()]}, headers=headers)

        assert_error(await rejected_without_change(app, request), status)


class TestDelay:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.refresh_delay": 30}

    async def test_metadata_and_every_nft_carrying_it_change_when_due(
        self, client: ApiClient, clock: ManualClock
    ) -> None:
        clock.advance(5)
        accepted = await refresh_stacked(client, stacked_item(name="Later"))
        clock.advance(29.999)
        before = [await metadata(client), await nft(client, "4"), await nft(client, "5")]
        listed_before = (await client.get(METADATA_BASE)).json()["result"][0]
        clock.advance(0.001)
        after = [await metadata(client), await nft(client, "4"), await nft(client, "5")]

        assert accepted.status_code == 202
        assert [read["name"] for read in before] == ["Iron Helmet"] * 3
        assert listed_before["name"] == "Iron Helmet"
        assert listed_before["updated_at"] is None
        assert [read["name"] for read in after] == ["Later"] * 3
        assert after[0]["updated_at"] == "2026-01-01T00:00:35.000000Z"
        assert after[1]["metadata_synced_at"] == after[2]["updated_at"] == "2026-01-01T00:00:35.000000Z"
        assert (await nft(client, "1"))["metadata_synced_at"] == "2026-01-01T00:00:00.000000Z"

    async def test_from_updated_at_keeps_what_changed_since(self, client: ApiClient, clock: ManualClock) -> None:
        await refresh_stacked(client, stacked_item())
        clock.advance(30)

        since = (await client.get(METADATA_BASE, params={"from_updated_at": "2026-01-01T00:00:30Z"})).json()
        later = (await client.get(METADATA_BASE, params={"from_updated_at": "2026-01-01T00:00:31Z"})).json()

        assert [m["id"] for m in since["result"]] == [STACKED_ID]
        assert later["result"] == []


class TestSharedBudget:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.rate_limit.limit": 3}

    async def test_both_refresh_operations_spend_one_budget(self, client: ApiClient) -> None:
        by_token = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
        stacked = await refresh_stacked(client, stacked_item())
        by_token_again = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
        refused = await refresh_stacked(client, stacked_item())

        remaining = [r.headers["imx-remaining-refreshes"] for r in (by_token, stacked, by_token_again)]
        assert remaining == ["2", "1", "0"]
        assert stacked.json()["imx_remaining_refreshes"] == "1"
        body = assert_error(refused, 429)
        assert body["code"] == "TOO_MANY_REQUESTS_ERROR"
        assert refused.headers["imx-remaining-refreshes"] == "0"
        assert int(refused.headers["Retry-After"]) >= 1

    async def test_rate_limits_view_names_the_operations_spending_it(self, client: ApiClient) -> None:
        await refresh_stacked(client, stacked_item())

        view = (await client.get("/__mock/rate-limits")).json()["immutable"]

        assert view["shared"] is True
        alpha = [p for p in view["projects"] if p["project"] == "project-alpha"]
        assert alpha == [{**alpha[0], "remaining": 2,
                          "operations": ["RefreshNFTMetadataByTokenID", "RefreshMetadataByID"]}]


class TestSeparateBudgets:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.rate_limit.limit": 2, "immutable.rate_limit.shared": False}

    async def test_each_refresh_operation_has_its_own_budget(self, client: ApiClient) -> None:
        by_token = [await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers()) for _ in range(2)]
        stacked = [await refresh_stacked(client, stacked_item()) for _ in range(3)]

        assert [r.headers["imx-remaining-refreshes"] for r in by_token] == ["1", "0"]
        assert [r.status_code for r in stacked] == [202, 202, 429]
        assert [r.headers["imx-remaining-refreshes"] for r in stacked] == ["1", "0", "0"]
        view = (await client.get("/__mock/rate-limits")).json()["immutable"]
        alpha = {tuple(p["operations"]): p["remaining"] for p in view["projects"] if p["project"] == "project-alpha"}
        assert view["shared"] is False
        assert alpha == {("RefreshNFTMetadataByTokenID",): 0, ("RefreshMetadataByID",): 0}


class TestAdmin:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"immutable.refresh_delay": 30}

    async def test_state_shows_stacked_metadata_and_its_pending_refreshes(self, client: ApiClient) -> None:
        await refresh_stacked(client, stacked_item())

        state = (await client.get("/__mock/state")).json()["immutable"]

        assert [m["id"] for m in state["metadata"]] == [STACKED_ID]
        assert state["pending_metadata_refreshes"] == 1
        assert state["pending_refreshes"] == 2  # NFTs 4 and 5

    async def test_journal_names_the_operation(self, client: ApiClient) -> None:
        await refresh_stacked(client, stacked_item())
        await client.get(f"{METADATA_BASE}/{STACKED_ID}")

        entries = (await client.get("/__mock/journal", params={"api": "immutable"})).json()
        operations = [entry["operation"] for entry in entries["entries"]]

        assert operations[-2:] == ["RefreshMetadataByID", "GetMetadata"]
