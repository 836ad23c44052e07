"""Each spec the mock serves names the mock, at the address the client reached it by, as its server."""

from __future__ import annotations

import pytest

from mockserver.web import MockApp
from tests.mockserver.support import ApiClient

pytestmark = pytest.mark.anyio
APIS = ("rair", "immutable", "tokenization")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "https://mock.teams.example:9443"])
async def test_each_api_spec_lists_the_mock_as_the_client_reached_it(app: MockApp, api: str, base_url: str) -> None:
    async with ApiClient(app, base_url=base_url, validate=False) as client:
        response = await client.get(f"/openapi/{api}.json")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    spec = response.json()
    assert [server["url"] for server in spec["servers"]] == [base_url]
    assert spec["openapi"] == "3.0.3"
    assert spec["paths"], "the rest of the spec is untouched"


async def test_the_admin_spec_lists_the_mock_with_the_admin_prefix(client: ApiClient) -> None:
    response = await client.get("/__mock/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert [server["url"] for server in spec["servers"]] == ["http://localhost/__mock"]
    assert "/reset" in spec["paths"], "its paths are relative to the prefix"


async def test_answers_other_than_the_spec_are_left_alone(client: ApiClient) -> None:
    page = await client.get("/docs/immutable/")
    assert page.status_code == 200
    assert "/openapi/immutable.json" in page.text
    assert (await client.post("/openapi/immutable.json")).status_code == 405
