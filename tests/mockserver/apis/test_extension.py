"""The extension point: a fourth API, written in its own files under tests/mockserver/apis/widgets/, registered and
then served, validated, journalled and reset by the mock with no change anywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mockserver.apis import register, unregister
from mockserver.web import MockApp
from tests.mockserver.apis import widgets
from tests.mockserver.support import ApiClient

pytestmark = pytest.mark.anyio

W1 = "/widgets/w1"
KEY = {"x-widget-key": widgets.KEY}


@pytest.fixture
def registered() -> Iterator[None]:
    register(widgets.API)
    yield
    unregister(widgets.API.name)


@pytest.fixture
async def client(registered: None, make_app: Any) -> AsyncIterator[ApiClient]:
    app: MockApp = make_app({"validate_responses": True})
    async with ApiClient(app, validate=False) as client:
        yield client


async def test_serves_reads_and_updates(client: ApiClient) -> None:
    assert (await client.get(W1, headers=KEY)).json() == {"id": "w1", "name": "First"}

    renamed = await client.put(W1, headers=KEY, json={"name": "Renamed"})

    assert (renamed.status_code, renamed.json()) == (200, {"id": "w1", "name": "Renamed"})
    assert (await client.get(W1, headers=KEY)).json()["name"] == "Renamed"
    spec = (await client.get("/openapi/widgets.json")).json()
    assert spec["info"]["title"] == "Widgets"


async def test_validates_with_its_own_error_shape_and_stores_nothing(client: ApiClient) -> None:
    too_long = await client.put(W1, headers=KEY, json={"name": "x" * 21})
    unknown_field = await client.put(W1, headers=KEY, json={"name": "ok", "colour": "red"})
    no_key = await client.get(W1)
    wrong_key = await client.put(W1, headers={"x-widget-key": "nope"}, json={"name": "ok"})
    missing = await client.get("/widgets/w9", headers=KEY)

    assert [r.status_code for r in (too_long, unknown_field, no_key, wrong_key, missing)] == [400, 400, 401, 401, 404]
    for response in (too_long, unknown_field, no_key, wrong_key, missing):
        assert set(response.json()) == {"error"}, response.text
    assert "name" in too_long.json()["error"]
    assert "colour" in unknown_field.json()["error"]
    assert (await client.get(W1, headers=KEY)).json()["name"] == "First"


async def test_journalled_with_its_key_redacted(client: ApiClient) -> None:
    await client.put(W1, headers=KEY, json={"name": "Renamed"})

    entries = (await client.get("/__mock/journal", params={"api": "widgets"})).json()["entries"]

    assert [(e["api"], e["operation"], e["status"]) for e in entries] == [("widgets", "renameWidget", 200)]
    assert entries[0]["request_headers"]["x-widget-key"] == "[redacted]"


async def test_reset_restores_its_records_and_state_shows_them(client: ApiClient) -> None:
    await client.put(W1, headers=KEY, json={"name": "Renamed"})

    assert (await client.post("/__mock/reset", headers={"X-Mock-Admin": "1"})).status_code == 204

    assert (await client.get(W1, headers=KEY)).json()["name"] == "First"
    state = (await client.get("/__mock/state")).json()
    assert [w["name"] for w in state["widgets"]["widgets"]] == ["First", "Second"]


def test_a_clashing_registration_is_refused(registered: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(widgets.API)
