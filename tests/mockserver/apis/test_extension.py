"""The extension point: a fourth API, written in its own files under tests/mockserver/apis/widgets/, registered and
then served, validated, journalled and reset by the mock with no change anywhere else, its settings and fixtures
sections included."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mockserver import cli
from mockserver.apis import register, unregister
from mockserver.errors import ConfigError
from mockserver.settings import load_settings
from mockserver.web import MockApp
from tests.mockserver.apis import widgets
from tests.mockserver.support import ApiClient, stub_server

pytestmark = pytest.mark.anyio

W1 = "/widgets/w1"
KEY = {"x-widget-key": widgets.KEY}
ADMIN = {"X-Mock-Admin": "1"}


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


async def test_the_page_and_the_admin_api_describe_it(client: ApiClient) -> None:
    html = (await client.get("/")).text
    apis = (await client.get("/__mock/apis")).json()["apis"]

    assert '<li class="api api-widgets">' in html
    assert '<a href="/docs/widgets/">Swagger UI</a>' in html
    assert '<div id="widgets" class="table-wrap api-records">' in html
    [widgets_view] = [api for api in apis if api["name"] == "widgets"]
    assert widgets_view["page"]["table"]["records"] == "widgets"
    assert [c["field"] for c in widgets_view["page"]["table"]["columns"]] == ["id", "name"]
    state = (await client.get("/__mock/state")).json()
    assert [w["id"] for w in state["widgets"][widgets_view["page"]["table"]["records"]]] == ["w1", "w2"]


def test_a_clashing_registration_is_refused(registered: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(widgets.API)


class TestSettingsSection:
    def test_set_by_yaml_environment_and_flags_like_any_setting(self, registered: None, tmp_path: Path) -> None:
        config = tmp_path / "mock.yaml"
        config.write_text("widgets:\n  max_name_length: 5\n")

        from_file = load_settings(config_file=config, environ={})
        from_env = load_settings(config_file=config, environ={"MOCKSERVER_WIDGETS__MAX_NAME_LENGTH": "6"})
        from_flag = load_settings(environ={}, overrides={"widgets.max_name_length": "7"})

        assert [s.widgets.max_name_length for s in (from_file, from_env, from_flag)] == [5, 6, 7]
        with pytest.raises(ConfigError, match=r"widgets\.max_name_length must be between 1 and 20"):
            load_settings(environ={}, overrides={"widgets.max_name_length": "0"})
        with pytest.raises(ConfigError, match=r"unknown setting widgets\.colour"):
            load_settings(environ={}, overrides={"widgets.colour": "red"})

    def test_its_preset_values_apply_under_what_the_user_sets(self, registered: None) -> None:
        realistic = load_settings(environ={}, preset="realistic")
        flagged = load_settings(environ={}, preset="realistic", overrides={"widgets.max_name_length": "7"})

        assert realistic.widgets.max_name_length == 12
        assert flagged.widgets.max_name_length == 7
        assert load_settings(environ={}, preset="dev").widgets.max_name_length == 20

    def test_serve_takes_it_with_set(self, registered: None, monkeypatch: pytest.MonkeyPatch) -> None:
        served = stub_server(monkeypatch)

        result = CliRunner().invoke(cli.main, ["serve", "--set", "widgets.max_name_length=4"], env={},
                                    catch_exceptions=False)

        assert result.exit_code == 0, result.output
        assert served["app"].settings.widgets.max_name_length == 4

    async def test_served_shown_and_changed_at_run_time(self, registered: None, make_app: Any) -> None:
        async with ApiClient(make_app({"widgets.max_name_length": 3}), validate=False) as client:
            too_long = await client.put(W1, headers=KEY, json={"name": "Four"})
            shown = (await client.get("/__mock/settings")).json()["widgets"]
            patched = await client.patch("/__mock/settings", headers=ADMIN, json={"widgets": {"max_name_length": 4}})
            renamed = await client.put(W1, headers=KEY, json={"name": "Four"})
            refused = await client.patch("/__mock/settings", headers=ADMIN, json={"widgets": {"max_name_length": 99}})

        assert (too_long.status_code, too_long.json()) == (400, {"error": "The name is longer than 3 characters."})
        assert shown == {"max_name_length": 3}
        assert patched.status_code == 200
        assert patched.json()["widgets"] == {"max_name_length": 4}
        assert (renamed.status_code, renamed.json()["name"]) == (200, "Four")
        assert refused.status_code == 400
        assert "widgets.max_name_length" in refused.text


class TestFixturesSection:
    async def test_loaded_served_journalled_and_reset_to(self, client: ApiClient) -> None:
        loaded = await client.put("/__mock/fixtures", headers=ADMIN,
                                   json={"widgets": {"items": [{"id": "w9", "name": "Ninth"}]}})
        await client.put("/widgets/w9", headers=KEY, json={"name": "Renamed"})
        journal = (await client.get("/__mock/journal", params={"api": "widgets"})).json()["entries"]
        await client.post("/__mock/reset", headers=ADMIN)

        assert loaded.status_code == 204
        assert [(e["operation"], e["status"]) for e in journal] == [("renameWidget", 200)]
        assert (await client.get("/widgets/w9", headers=KEY)).json() == {"id": "w9", "name": "Ninth"}
        assert (await client.get(W1, headers=KEY)).status_code == 404

    async def test_a_bad_section_is_refused_naming_it_and_changes_nothing(self, client: ApiClient) -> None:
        refused = await client.put("/__mock/fixtures", headers=ADMIN, json={"widgets": {"items": [{"id": "w9"}]}})

        assert refused.status_code == 400
        assert "widgets.items[0].name" in refused.text
        assert (await client.get(W1, headers=KEY)).json() == {"id": "w1", "name": "First"}
        assert (await client.get("/widgets/w9", headers=KEY)).status_code == 404


async def test_an_api_registered_after_the_server_was_made_is_not_served_by_it(make_app: Any) -> None:
    app: MockApp = make_app()
    register(widgets.API)
    try:
        async with ApiClient(app, validate=False) as client:
            response = await client.get(W1, headers=KEY)
            journal = (await client.get("/__mock/journal")).json()["entries"]
    finally:
        unregister(widgets.API.name)
    assert response.status_code == 404  # as any path the server does not serve: not a 500
    assert journal == []
