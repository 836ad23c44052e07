"""A fourth API in its own files only: its spec beside this module, and the plugin the mock registers.

Widgets have a name; a key in `x-widget-key` reads them and renames them. Its records are seeded by the plugin
itself (the fixtures file has no section for it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockserver.apis.base import Api, Handler, SeedPart
from mockserver.errors import ApiError
from mockserver.fixtures import Fixtures
from mockserver.store import Record, Store

WIDGETS = "widgets:widgets"
KEY = "widget-key"
SPEC = Path(__file__).with_name("widgets.yaml")


class WidgetService:
    def __init__(self, store: Store) -> None:
        self.store = store

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
        def change(widget: Record) -> None:
            widget["name"] = name

        updated = self.store.update(WIDGETS, (widget_id,), change)
        if updated is None:
            raise ApiError(404, f"No widget {widget_id}.")
        return updated


def seed(fixtures: Fixtures) -> SeedPart:
    return {WIDGETS: {("w1",): {"id": "w1", "name": "First"}, ("w2",): {"id": "w2", "name": "Second"}}}, []


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
    build=lambda context: WidgetService(context.store),
    operations=operations,
    principal=lambda service, key: {"sub": service.authenticate(key)},
    state=lambda service, now: {"widgets": [record for _, record in service.store.items(WIDGETS)]},
)

__all__ = ["API", "KEY"]
