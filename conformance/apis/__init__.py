"""The registry: the APIs the suite tests, in the order a run takes them (`--api all`)."""

from __future__ import annotations

from conformance.apis import immutable, rair, tokenization
from conformance.apis.base import ApiSuite
from conformance.behaviour.base import BehaviourCheck

_BUILT_IN: tuple[ApiSuite, ...] = (rair.SUITE, immutable.SUITE, tokenization.SUITE)
_suites = _BUILT_IN

# The built-in APIs: the CLI's and the pytest plugin's `--api` choices.
API_NAMES: tuple[str, ...] = tuple(suite.name for suite in _BUILT_IN)
CHECKS: dict[str, tuple[BehaviourCheck, ...]] = {suite.name: suite.checks for suite in _BUILT_IN}


def suites() -> tuple[ApiSuite, ...]:
    """Every API a run and a target file know of: the built-in ones, then those `register`ed."""
    return _suites


def suite_of(api: str) -> ApiSuite:
    for suite in _suites:
        if suite.name == api:
            return suite
    raise KeyError(f"no API named {api!r} is registered; known: {', '.join(s.name for s in _suites)}")


def checks_for(api: str) -> tuple[BehaviourCheck, ...]:
    """The API's checks in the order they run (ones that spend a quota for good come last)."""
    return suite_of(api).checks


def register(suite: ApiSuite) -> None:
    """Test one more API (one of your own) from now on; target files then need its section."""
    global _suites
    if any(known.name == suite.name for known in _suites):
        raise ValueError(f"an API named {suite.name!r} is already registered")
    _suites = (*_suites, suite)


def unregister(name: str) -> None:
    """Stop testing an API registered with `register`."""
    global _suites
    _suites = tuple(suite for suite in _suites if suite.name != name or suite in _BUILT_IN)


__all__ = ["API_NAMES", "CHECKS", "ApiSuite", "checks_for", "register", "suite_of", "suites", "unregister"]
