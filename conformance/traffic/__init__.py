"""Checks of observed traffic: one request and its response at a time, against the specs.

Used offline by `conformance validate-traffic FILE.har` and live by the mock's validating proxy
(`mockserver proxy`), so both report the same violations of the same rules.
"""

from conformance.traffic.rules import RULES, HttpExchange, Rule, TrafficChecker, Violation

__all__ = ["RULES", "HttpExchange", "Rule", "TrafficChecker", "Violation"]
