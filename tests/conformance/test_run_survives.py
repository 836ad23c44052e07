"""A run never dies of what a server does: errors inside a check become that check's finding, and the run goes on."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis.errors import FlakyFailure
from schemathesis.checks import CHECKS

from conformance import report
from conformance.cli import main
from conformance.results import Status
from conformance.runner import RunConfig, describe_error, run
from conformance.target import load_target
from tests.conformance import variants
from tests.conformance.conftest import mock_app, run_suite, serve

RAIR_TOKEN_GET = "/api/nft/network/"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def cut_off(app: Any, every: int) -> Any:
    """Break every `every`th GET of a RAIR token mid-body: the client sees the connection end early."""
    counter = itertools.count(1)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if not (variants._is("GET", RAIR_TOKEN_GET, scope) and next(counter) % every == 0):
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"success": tr', "more_body": True})
        raise RuntimeError("connection dropped mid-body")

    return wrapped


def files_elsewhere(app: Any) -> Any:
    """Hand out upload URLs on a host the suite cannot reach (as a CDN behind a firewall would be)."""
    def move(body: Any) -> Any:
        metadata = body.get("token", {}).get("metadata", {}) if isinstance(body, dict) else {}
        for field in ("image", "animation_url"):
            value = metadata.get(field)
            if isinstance(value, str) and "/files/" in value:
                metadata[field] = UNREACHABLE + value[value.index("/files/"):]
        return body

    return variants.rewrite_responses(app, lambda s: variants._is("POST", RAIR_TOKEN_GET, s),
                                      lambda r: variants.edit_json(r, move) if r[0] == 200 else r)


def test_dropped_connections_are_findings_and_the_run_goes_on() -> None:
    with serve(cut_off(mock_app(), every=3)) as url:
        result = run_suite(url, "rair", destructive=True, examples=10)
    behaviour = {r.check: r for r in result.results if r.kind == "behaviour"}
    broken = [r for r in behaviour.values() if r.status is Status.FAILED]
    assert broken, "a check reading the token saw its connection drop"
    text = " ".join(f.actual for r in broken for f in r.failures)
    assert "RemoteProtocolError" in text or "ReadError" in text, text
    # The run went on: every check has its own outcome, and the last behaviour check ran too.
    assert {"update_round_trip", "non_owner_forbidden", "non_media_rejected", "uploaded_file_served"} <= set(behaviour)
    assert all(r.status is not Status.SKIPPED or r.skip_reason for r in behaviour.values())


def test_cli_exits_1_not_2_when_connections_drop(tmp_path: Path) -> None:
    with serve(cut_off(mock_app(), every=3)) as url:
        outcome = CliRunner().invoke(main, ["run", "--api", "rair", "--base-url", url, "--max-examples", "5",
                                            "--allow-destructive"])
    assert outcome.exit_code == 1, outcome.output
    assert "crashed" not in outcome.output


def test_unreachable_file_url_is_noted_not_failed() -> None:
    with serve(files_elsewhere(mock_app())) as url:
        result = run_suite(url, "rair", destructive=True, examples=5)
    served = next(r for r in result.results if r.check == "uploaded_file_served")
    assert served.status is Status.PASSED, served.failures
    assert any("could not verify" in note and UNREACHABLE in note for note in served.notes), served.notes
    reported = next(r for r in report.to_json(result)["results"] if r["check"] == "uploaded_file_served")
    assert reported["notes"] == served.notes


def test_a_hypothesis_wrapper_is_described_by_what_it_holds() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/x")
    flaky = FlakyFailure("flaky", [httpx.ConnectError("refused", request=request), ValueError("bad json")])
    text = describe_error(flaky)
    assert "ConnectError: refused (GET http://127.0.0.1:1/x)" in text
    assert "ValueError: bad json" in text


@pytest.fixture
def crashing_check() -> Iterator[str]:
    """A Schemathesis check that raises on every 200, registered for one test only (the registry is global)."""

    @schemathesis.check
    def crashes_on_200(ctx: Any, response: Any, case: Any) -> None:
        if response.status_code == 200:
            raise LookupError("no such key: 'metadata'")

    yield crashes_on_200.__name__
    CHECKS.unregister(crashes_on_200.__name__)


def test_a_schema_check_that_crashes_says_how_and_how_to_reproduce(mock_url: str, crashing_check: str) -> None:
    result = run(RunConfig(base_url=mock_url, target=load_target(), apis=("tokenization",), max_examples=5,
                           extra_checks=(crashing_check,)))
    crashed = next(r for r in result.results if r.check == crashing_check and r.operation.operation_id == "getToken")
    assert crashed.status is Status.FAILED
    finding = crashed.failures[0]
    assert "LookupError: no such key: 'metadata'" in finding.actual
    assert "200" in finding.actual
    assert finding.curl.startswith("curl")
    sent = subprocess.run(["bash", "-c", finding.curl], capture_output=True, text=True, timeout=60, check=True)
    assert sent.stdout.startswith("HTTP/1.1 200"), sent.stdout[:300]
