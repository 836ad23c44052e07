"""Recorded traffic checked offline, as a `RunResult`: the suite's console tables, JUnit and JSON reports apply.

Each operation seen in the traffic gets one result per rule: passed by every exchange of it that kept the rule,
failed by each that broke it (the finding names the HAR entry and resends its request with curl).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from conformance._specs import ApiName
from conformance.apis import API_NAMES
from conformance.curl import curl_of_sent
from conformance.exchange import SentRequest
from conformance.results import CheckResult, Finding, Operation, RunResult, RunSettings
from conformance.traffic.har import read_har
from conformance.traffic.rules import RULES, HttpExchange, TrafficChecker, Violation

KIND = "traffic"


def validate_har(path: Path, *, apis: Sequence[ApiName] = API_NAMES) -> RunResult:
    """Every exchange of the HAR file at `path` checked by the single-exchange rules of `apis`' specs."""
    started = time.monotonic()
    entries = read_har(path)
    checker = TrafficChecker(apis)
    results: dict[tuple[Operation, str], CheckResult] = {}
    for number, (url, exchange) in enumerate(entries, 1):
        rules = checker.api_of(exchange.path)
        if rules is None or exchange.preflight:
            continue  # not a path of these APIs (the mock's own, a file, another service's) or a CORS preflight
        found = rules.find(exchange.method, exchange.path)
        operation = (Operation(api=found[0], operation_id=found[1], method=exchange.method.upper(), path=found[2])
                     if found is not None else
                     Operation(api=rules.api, operation_id=f"{exchange.method.upper()} {exchange.path}",
                               method=exchange.method.upper(), path=exchange.path))
        broken: dict[str, list[Violation]] = {}
        for violation in rules.check(exchange):
            broken.setdefault(violation.rule.name, []).append(violation)
        names = list(RULES) if found is not None else ["documented-operation"]
        for name in names:
            rule = rules.rule(operation.operation_id, name)
            result = results.setdefault((operation, name), CheckResult(
                operation=operation, check=name, kind=KIND, description=rule.description, source=rule.source,
                cite=rule.cite))
            if name not in broken:
                result.passed += 1
                continue
            for violation in broken[name]:
                # An error shape judged for an undocumented status rests on other words than a documented one.
                result.source, result.cite = violation.rule.source, violation.rule.cite
                result.add_failure(_finding(number, url, exchange, violation.message, rule.description))
    ordered = sorted(results.values(), key=lambda r: (API_NAMES.index(r.operation.api), r.operation.operation_id,
                                                       list(RULES).index(r.check)))
    settings = RunSettings(base_url=str(path), apis=tuple(apis), target_source=f"{len(entries)} HAR entries",
                           max_examples=None, seed=None, workers=1, allow_destructive=False)
    return RunResult(settings=settings, results=ordered, duration=time.monotonic() - started)


def _finding(number: int, url: str, exchange: HttpExchange, message: str, expected: str) -> Finding:
    sent = SentRequest(method=exchange.method.upper(), url=url, headers=tuple(exchange.request_headers),
                       body=exchange.request_body)
    return Finding(title=message, expected=expected, actual=f"HAR entry {number}: {exchange.method.upper()} "
                   f"{exchange.path} answered {exchange.status}: {message}", curl=curl_of_sent(sent), request=sent)
