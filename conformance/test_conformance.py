"""The suite as pytest tests: `pytest --pyargs conformance --base-url URL`."""

from __future__ import annotations

from typing import Any

from conformance.plugin import assert_conforms
from conformance.results import RunResult


def test_conformance(conformance_check: tuple[Any, str], conformance_result: RunResult) -> None:
    """One operation and one check of the server under test."""
    assert_conforms(conformance_result, conformance_check)
