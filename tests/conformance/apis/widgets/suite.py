"""The suite's side of the mock's fourth API (tests/mockserver/apis/widgets/): its part in its own file only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hypothesis import given

from conformance.apis.base import ApiSuite
from conformance.behaviour.base import BehaviourCheck, Context
from conformance.behaviour.strategies import texts
from conformance.exchange import RequestSpec
from conformance.results import RuleSource
from conformance.target_base import Section, Target
from tests.mockserver.apis import widgets

NAME = "widgets"
SECTION = "widgets:\n  key: widget-key\n  widget_id: w1\n"


@dataclasses.dataclass(frozen=True, kw_only=True)
class WidgetsTarget:
    key: str
    widget_id: str


def read_section(s: Section) -> WidgetsTarget:
    result = WidgetsTarget(key=s.string("key"), widget_id=s.string("widget_id"))
    s.done()
    return result


def _of(target: Target) -> WidgetsTarget:
    return target.section(NAME, WidgetsTarget)


def rename_round_trip(ctx: Context) -> None:
    section = _of(ctx.target)
    path = f"/widgets/{section.widget_id}"
    headers = {"x-widget-key": section.key}

    @given(name=texts(20))
    def test(name: str) -> None:
        renamed = ctx.send(RequestSpec(method="PUT", path=path, headers=headers, json={"name": name}))
        ctx.expect_status(renamed, 200, why="a valid rename")
        shown = ctx.send(RequestSpec(method="GET", path=path, headers=headers))
        ctx.expect(shown.json() == {"id": section.widget_id, "name": name},
                   expected=f"GET after the rename to show name {name!r}", actual=shown.summary(200), exchange=shown)
        ctx.ok(2)

    ctx.given(test)


def _known_path(target: Target, generated: Mapping[str, Any], pick: int) -> dict[str, Any]:
    return {"widget_id": _of(target).widget_id}


SUITE = ApiSuite(
    name=NAME,
    spec_file=widgets.SPEC,
    title="Widgets",
    read_target=read_section,
    security_scheme="WidgetKey",
    credential=lambda target: {"api_key": _of(target).key},
    write_operations=frozenset({"renameWidget"}),
    checks=(
        BehaviourCheck(name="rename_round_trip", api=NAME, operation_id="renameWidget", destructive=True,
                       run=rename_round_trip, source=RuleSource.PROJECT, cite="widgets.yaml, renameWidget",
                       description="A rename is shown by the next GET."),
    ),
    known_path=_known_path,
)
