"""Behavioural checks: the rules of each API that schemas cannot state, tested with Hypothesis over httpx.

What every check shares is here (`base`, `strategies`); each API's checks are in `conformance/apis/<name>/`,
listed by the registry (`conformance.apis.CHECKS`).
"""

from __future__ import annotations

from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context

__all__ = ["BehaviourCheck", "CheckFailed", "CheckSkipped", "Context"]
