"""Immutable behaviour checks: what their findings say on servers broken in ways the variants do not cover."""

from __future__ import annotations

from typing import Any

from conformance.results import CheckResult, Status
from conformance.runner import RunConfig, run_behaviour_checks
from conformance.target import load_target
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve


def _behaviour(app: Any) -> dict[str, CheckResult]:
    with serve(app) as url:
        config = RunConfig(base_url=url, target=load_target(), apis=("immutable",), max_examples=10,
                           allow_destructive=True)
        return {result.check: result for result in run_behaviour_checks("immutable", config)}


def test_isolation_blames_unrepeatable_reads_not_the_refresh() -> None:
    """Reads that change on their own are reported as such, not as a refresh that leaked into other NFTs."""
    results = _behaviour(variants.read_time_in_updated_at(mock_app()))
    isolation = results["refresh_isolation"]
    assert isolation.status is Status.FAILED
    assert "reads are not repeatable" in isolation.failures[0].actual
