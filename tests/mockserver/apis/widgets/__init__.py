"""A fourth API in its own files only: its spec beside this module, and the plugin the mock registers.

Widgets have a name; a key in `x-widget-key` reads them and renames them. Its settings section (`widgets.*`) bounds
the names; its fixtures section (`widgets: {items: [{id, name}]}`) lists the widgets, two built-in ones when it
lists none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.apis.base import Api, ApiContext, Handler, SeedPart
from mockserver.apis.page import Column, PageView, RecordsTable
from mockserver.errors import ApiError
from mockserver.fixtures import Fixtures, FixturesSection, Reader
from mockserver.settings import Settings, SettingsSection, require
from mockserver.store import Record, Store

WIDGETS = "widgets:widgets"
KEY = "widget-key"
SPEC = Path(__file__).with_name("widgets.yaml")
BUILT_IN = {"w1": "First", "w2": "Second"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class WidgetSettings:
    max_name_length: int = 20

    def __post_init__(self) -> None:
        require(1 <= self.max_name_length <= 20, "widgets.max_name_length", "must be between 1 and 20")


@dataclasses.dataclass(kw_only=True)
class WidgetFixtures:
    items: dict[str, str] = dataclasses.field(default_factory=dict)


def parse_fixtures(reader: Reader, section: dict[str, Any]) -> WidgetFixtures:
    fixtures = WidgetFixtures()
    for i, item in enumerate(reader.items(section.get("items"), "widgets.items")):
        where = f"widgets.items[{i}]"
        fixtures.items[reader.text(item, "id", where)] = reader.text(item, "name", where)
    return fixtures


def fixtures_from_json(raw: Mapping[str, Any]) -> WidgetFixtures:
    return WidgetFixtures(items=raw["widgets_items"])


class WidgetService:
    def __init__(self, store: Store, settings: WidgetSettings) -> None:
        self.store = store
        self.settings = settings

    def authenticate(self, key: str) -> str:
        if key != KEY:
            raise ApiError(401, "Unknown widget key.")
        return key

    def widget(self, widget_id: str) -> Record:
        found = self.store.get(WIDGETS, (widget_id,))
        if found is None:
            raise ApiError(404, f"No widget {widget_id}.")
        return found

    def rename(self, widget_id: str, name: str) -> Record:
        if len(name) > self.settings.max_name_length:
            raise ApiError(400, f"The name is longer than {self.settings.max_name_length} characters.", field="name")

        def change(widget: Record) -> None:
            widget["name"] = name

        updated = self.store.update(WIDGETS, (widget_id,), change)
        if updated is None:
            raise ApiError(404, f"No widget {widget_id}.")
        return updated


def seed(fixtures: Fixtures) -> SeedPart:
    items = fixtures.section("widgets", WidgetFixtures).items or BUILT_IN
    return {WIDGETS: {(widget_id,): {"id": widget_id, "name": name} for widget_id, name in items.items()}}, []


def widget_settings(settings: Settings) -> WidgetSettings:
    return settings.section("widgets", WidgetSettings)


def configure(service: WidgetService, context: ApiContext, previous: Settings) -> None:
    service.settings = widget_settings(context.settings)


def operations(service: WidgetService) -> dict[str, Handler]:
    async def getWidget(widget_id: str, **_: Any) -> Any:
        return service.widget(widget_id)

    async def renameWidget(widget_id: str, body: dict[str, Any], **_: Any) -> Any:
        return service.rename(widget_id, body["name"])

    return {"getWidget": getWidget, "renameWidget": renameWidget}


API = Api[WidgetService](
    name="widgets",
    title="Widgets",
    label="Widgets",
    spec_file=str(SPEC),
    prefix="/widgets/",
    render_error=lambda error: {"error": error.message},
    credential_header="x-widget-key",
    missing_credentials="Missing x-widget-key header.",
    oversize_status=413,
    seed=seed,
    build=lambda context: WidgetService(context.store, widget_settings(context.settings)),
    configure=configure,
    page=PageView(summary="Widget rename", operation="PUT /widgets/{widget_id}",
                  table=RecordsTable(title="Widgets", records="widgets", row_id="id", empty="No widgets.",
                                     columns=(Column(title="Widget", field="id"), Column(title="Name", field="name")))),
    # Real widget services cut names shorter.
    settings_section=SettingsSection(type=WidgetSettings, presets={"realistic": {"max_name_length": 12}}),
    fixtures_section=FixturesSection(type=WidgetFixtures, parse=parse_fixtures, from_json=fixtures_from_json,
                                     to_json=lambda fixtures: {"widgets_items": fixtures.items}),
    operations=operations,
    principal=lambda service, key: {"sub": service.authenticate(key)},
    state=lambda service, now: {"widgets": [record for _, record in service.store.items(WIDGETS)]},
)

__all__ = ["API", "KEY"]
