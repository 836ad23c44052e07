"""The registry: the APIs the suite tests, in the order a run takes them (`--api all`)."""

from __future__ import annotations

from conformance.apis import immutable, rair, tokenization
from conformance.apis.base import ApiSuite
from conformance.behaviour.base import BehaviourCheck

SUITES: tuple[ApiSuite, ...] = (rair.SUITE, immutable.SUITE, tokenization.SUITE)

API_NAMES: tuple[str, ...] = tuple(suite.name for suite in SUITES)
CHECKS: dict[str, tuple[BehaviourCheck, ...]] = {suite.name: suite.checks for suite in SUITES}


def suite_of(api: str) -> ApiSuite:
    return next(suite for suite in SUITES if suite.name == api)


def checks_for(api: str) -> tuple[BehaviourCheck, ...]:
    """The API's checks in the order they run (ones that spend a quota for good come last)."""
    return suite_of(api).checks


__all__ = ["API_NAMES", "CHECKS", "SUITES", "ApiSuite", "checks_for", "suite_of"]
