"""Behavioural checks: the rules of each API that schemas cannot state, tested with Hypothesis over httpx."""

from __future__ import annotations

from conformance._specs import ApiName
from conformance.behaviour import immutable, rair, tokenization
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context

CHECKS: dict[ApiName, tuple[BehaviourCheck, ...]] = {
    "rair": rair.CHECKS,
    "immutable": immutable.CHECKS,
    "tokenization": tokenization.CHECKS,
}


def checks_for(api: ApiName) -> tuple[BehaviourCheck, ...]:
    """The API's checks in the order they run (ones that spend a quota for good come last)."""
    return CHECKS[api]


__all__ = ["CHECKS", "BehaviourCheck", "CheckFailed", "CheckSkipped", "Context", "checks_for"]
