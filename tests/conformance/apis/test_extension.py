"""The suite's extension point: a fourth API, written in its own file (tests/conformance/apis/widgets/), registered
and run (schema and behaviour checks, from its own spec and target section) against the mock serving it, with no
change anywhere else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

import conformance.apis
import mockserver.apis
from conformance.results import RunResult, Status
from conformance.runner import RunConfig, planned_checks, run
from conformance.schema_checks import SCHEMA_CHECKS
from conformance.target import default_target_text, parse_target
from tests.conformance.apis.widgets import suite
from tests.conformance.conftest import mock_app, serve
from tests.mockserver.apis import widgets

# The one gap of the widgets' spec the suite finds in the mock: GET answers a malformed widget id with a 400 that
# the spec documents only for PUT.
SPEC_GAP = ("getWidget", "status_code_conformance")


@pytest.fixture
def registered() -> Iterator[None]:
    mockserver.apis.register(widgets.API)
    conformance.apis.register(suite.SUITE)
    yield
    conformance.apis.unregister(suite.NAME)
    mockserver.apis.unregister(widgets.API.name)


def _run(url: str) -> RunResult:
    target = parse_target(yaml.safe_load(default_target_text() + suite.SECTION), source="test")
    return run(RunConfig(base_url=url, target=target, apis=(suite.NAME,), max_examples=10, allow_destructive=True))


def test_a_registered_api_is_run_from_its_own_spec_and_target_section(registered: None) -> None:
    with serve(mock_app()) as url:
        result = _run(url)

    checks = {(r.operation.operation_id, r.check): r for r in result.results}
    assert set(checks) == {(op.operation_id, check) for op, check in planned_checks((suite.NAME,))}
    assert {check for _, check in checks} == {*SCHEMA_CHECKS, "rename_round_trip"}
    assert [key for key, r in checks.items() if r.status is Status.FAILED] == [SPEC_GAP]
    assert all(f.actual.startswith("400") and f.curl.startswith("curl -X GET")
               for f in checks[SPEC_GAP].failures), checks[SPEC_GAP].failures
    assert checks[("renameWidget", "rename_round_trip")].passed > 0
    assert checks[("getWidget", "ignored_auth")].passed > 0


def test_its_checks_catch_a_server_that_breaks_its_rules(registered: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Renames answered but never stored.
    monkeypatch.setattr(widgets.WidgetService, "rename", lambda self, widget_id, name: {"id": widget_id, "name": name})
    with serve(mock_app()) as url:
        result = _run(url)

    failed = {(r.operation.operation_id, r.check) for r in result.failed}
    assert failed == {SPEC_GAP, ("renameWidget", "rename_round_trip")}


def test_unregistered_it_is_gone() -> None:
    assert suite.NAME not in [s.name for s in conformance.apis.suites()]
    with pytest.raises(KeyError, match="no API named 'widgets'"):
        conformance.apis.suite_of(suite.NAME)
