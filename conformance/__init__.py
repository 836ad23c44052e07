"""Conformance suite for the token-metadata APIs registered in `conformance.apis`.

It holds any server, over HTTP, to the OpenAPI documents in `specs/`: Schemathesis' property-based checks
driven by the specs, plus behavioural checks written with Hypothesis for the rules the specs state in prose.
Run it with `conformance run --api all --base-url URL`, or from pytest (see `conformance.plugin`).
"""

from conformance.errors import ConformanceError
from conformance.results import CheckResult, RunResult, Status
from conformance.runner import RunConfig, run
from conformance.target import Target, load_target

__all__ = [
    "CheckResult",
    "ConformanceError",
    "RunConfig",
    "RunResult",
    "Status",
    "Target",
    "load_target",
    "run",
]
