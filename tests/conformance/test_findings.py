"""Findings a user can act on: a server whose reads wander is told so, not blamed for changing on rejection."""

from __future__ import annotations

import itertools
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mockserver.apis.immutable.service
from conformance import report, samples
from conformance.cli import main
from conformance.curl import curl_command
from conformance.exchange import FilePart, Http, RequestSpec
from conformance.results import CheckResult, Finding, Operation, RuleSource, RunResult, Status
from tests.conformance import variants
from tests.conformance.conftest import mock_app, run_suite, serve

RAIR = "/api/nft/network/"


def wandering_reads(app: Any, every: int = 2) -> Any:
    """Every `every`th read of a RAIR token shows an older name, as a lagging replica would; nothing is written."""
    reads = itertools.count()

    def stale(body: Any) -> Any:
        if next(reads) % every == 1 and isinstance(body, dict) and "result" in body:
            body["result"]["metadata"]["name"] = "an older name"
        return body

    return variants.rewrite_responses(app, lambda s: variants._is("GET", RAIR, s),
                                      lambda r: variants.edit_json(r, stale) if r[0] == 200 else r)


def unavailable_after_a_non_owner(app: Any) -> Any:
    """After a non-owner's update attempt, the token reads once with an older name, then once as a 503.

    `non_owner_forbidden` reads the token after its rejected update, sees a difference and reads again to
    confirm it before blaming the rejection: that confirming read is the 503. Keyed to the non-owner's request,
    not to a count of reads, so the schema checks' traffic (which depends on what Hypothesis generates) cannot
    move it.
    """
    pending = [0]
    older = variants.rewrite_responses(app, lambda s: True, lambda r: variants.edit_json(r, lambda body: {
        **body, "result": {**body["result"], "metadata": {**body["result"]["metadata"], "name": "an older name"}}}))

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(RAIR):
            if scope["method"] == "POST" and dict(scope["headers"]).get(b"x-rair-token") == b"rair-collector-token":
                pending[0] = 2
            elif scope["method"] == "GET" and pending[0] == 2:
                pending[0] = 1
                await older(scope, receive, send)
                return
            elif scope["method"] == "GET" and pending[0] == 1:
                pending[0] = 0
                body = json.dumps({"success": False, "message": "Busy."}).encode()
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return wrapped


def fails_on_binary_bodies(app: Any) -> Any:
    """Answer 500 to any Tokenization update whose body holds a NUL, as a parser choking on file bytes might."""
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if not variants._is("PUT", "/v2/admin/token/", scope):
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b"\x00" not in body:
            async def replay() -> Any:
                return {"type": "http.request", "body": body, "more_body": False}
            await app(scope, replay, send)
            return
        await send({"type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"oops!"})

    return wrapped


def refused_but_applied(app: Any) -> Any:
    """Apply a non-owner's update (as if the owner had sent it) and still answer the 403 the owner check expects."""
    swapped = variants.rewrite_request_headers(
        app, lambda scope, h: {**h, b"x-rair-token": b"rair-owner-token"}
        if h.get(b"x-rair-token") == b"rair-collector-token" else h)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        refused = variants._is("POST", RAIR, scope) and (b"x-rair-token", b"rair-collector-token") in scope["headers"]
        if not refused:
            await app(scope, receive, send)
            return
        token = scope["path"].rsplit("/", 1)[1]

        async def discard(message: Any) -> None:
            pass

        await swapped(scope, receive, discard)
        body = json.dumps({"success": False, "error": True,
                           "message": f"You have no permissions for updating token {token}."}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _finding(result: Any, check: str) -> Any:
    found = next(r for r in result.results if r.check == check)
    assert found.status is Status.FAILED, found
    return found.failures


def test_wandering_reads_are_reported_as_such() -> None:
    with serve(wandering_reads(mock_app())) as url:
        result = run_suite(url, "rair", examples=5)
    failures = _finding(result, "non_owner_forbidden")
    assert [f.title for f in failures] == ["reads are not repeatable"]
    assert "an older name" in failures[0].actual
    assert RAIR in failures[0].expected
    assert not any("to change nothing" in f.expected for r in result.failed for f in r.failures)


def test_wandering_reads_are_not_blamed_on_an_update_of_another_token() -> None:
    # Every third read: isolation reads the target's two other tokens before and after each update, and a
    # period of two would show each of them the same way both times.
    with serve(wandering_reads(mock_app(), every=3)) as url:
        result = run_suite(url, "rair", destructive=True, examples=5)
    failures = _finding(result, "isolation")
    assert [f.title for f in failures] == ["reads are not repeatable"]
    assert "an older name" in failures[0].actual


def test_a_read_that_is_not_200_is_reported_as_such() -> None:
    with serve(unavailable_after_a_non_owner(mock_app())) as url:
        result = run_suite(url, "rair", examples=5)
    failures = _finding(result, "non_owner_forbidden")
    unavailable = [f for f in failures if f.title == "a read did not return the resource"]
    assert unavailable, failures
    assert unavailable[0].actual.startswith("503"), unavailable[0]
    assert unavailable[0].curl.startswith("curl")
    assert "-X GET" in unavailable[0].curl
    # Two error bodies are not two versions of the token: nothing is "not repeatable" or blamed on a rejection.
    compared = [f for r in result.failed for f in r.failures
                if f.title == "reads are not repeatable" or "to change nothing" in f.expected]
    assert not [f for f in compared if "trace" in f.actual], compared


def test_a_rejection_that_changes_state_is_still_blamed() -> None:
    with serve(refused_but_applied(mock_app())) as url:
        result = run_suite(url, "rair", examples=5)
    failures = _finding(result, "non_owner_forbidden")
    assert any("the rejected request (403) to change nothing" in f.expected for f in failures), failures
    assert all(f.title != "reads are not repeatable" for f in failures)


def test_a_long_reproducer_sends_its_body_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A server without Immutable's size limits accepts the 16 KiB + 1 item: a reproducer far over 2 KB.
    monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_ITEM_BYTES", 10**9)
    monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_LIST_BYTES", 10**9)
    report = tmp_path / "report.json"
    with serve(mock_app()) as url:
        outcome = CliRunner().invoke(main, ["run", "--api", "immutable", "--base-url", url, "--max-examples", "5",
                                            "--report-json", str(report)])
        assert outcome.exit_code == 1, outcome.output
        data = json.loads(report.read_text())
        limits = next(r for r in data["results"] if r["check"] == "body_limits")
        commands = [f["curl"] for f in limits["failures"]]
        assert commands, limits
        assert all(len(command) < 2048 and "--data-binary @" in command for command in commands)
        body_file = Path(shlex.split(commands[0])[-1][1:])
        assert body_file.parent == tmp_path / "reproducers"
        assert len(body_file.read_bytes()) > 16 * 1024
        assert "--data-binary @" in outcome.output
        # The command resends the same request: the broken server accepts it again.
        sent = subprocess.run(shlex.split(commands[0]), capture_output=True, text=True, timeout=60, check=True)
    assert sent.stdout.startswith("HTTP/1.1 202"), sent.stdout[:300]


def test_a_long_multipart_reproducer_resends_the_same_parts(tmp_path: Path) -> None:
    name = "n" * 3000
    path = "/api/nft/network/0x89/0x571acc173f57c095f1f63b28f823f0f33128a6c4/0/token/1"
    with serve(mock_app()) as url:
        http = Http(url, timeout=10)
        exchange = http.send(RequestSpec(method="POST", path=path, headers={"x-rair-token": "rair-owner-token"},
                                         form={"name": name}, files=(FilePart(field="files", filename="a.png",
                                         content_type="image/png", content=samples.png("x")),)))
        http.close()
        operation = Operation(api="rair", operation_id="updateTokenMetadata", method="POST", path=path)
        item = CheckResult(operation=operation, check="update_round_trip", kind="behaviour", description="",
                           source=RuleSource.VENDOR_PAGE, cite="")
        curl = curl_command(exchange.request, url)
        item.add_failure(Finding(title="t", expected="e", actual="a", curl=curl, request=exchange.sent()))
        run = RunResult(settings=None, results=[item])  # type: ignore[arg-type]
        assert report.write_long_bodies(run, tmp_path) == 1
        command = item.failures[0].curl
        assert "multipart/form-data; boundary=" in command
        sent = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60, check=True)
    assert sent.stdout.startswith("HTTP/1.1 200"), sent.stdout[:300]
    assert json.loads(sent.stdout.split("\n\n", 1)[1])["token"]["metadata"]["name"] == name


def _statuses(result: RunResult) -> dict[tuple[str, str], Status]:
    return {(r.operation.operation_id, r.check): r.status for r in result.results}


def test_a_wrong_tokenization_error_shape_fails_bodies_alone() -> None:
    """Limits and credentials answered with the right status keep their rule; the error shape is `bodies`'."""
    with serve(variants.error_status_mismatch(mock_app())) as url:
        statuses = _statuses(run_suite(url, "tokenization", examples=5))
    assert statuses["updateToken", "bodies"] is Status.FAILED
    assert statuses["updateToken", "limits_past_bound"] is Status.PASSED
    assert statuses["updateToken", "credentials"] is Status.PASSED


def test_a_400_without_details_fails_error_codes_not_page_size_bounds() -> None:
    no_details = variants.rewrite_responses(
        mock_app(), lambda s: s["path"].startswith("/v1/"),
        lambda r: variants.edit_json(r, lambda b: {**b, "details": None}) if r[0] == 400 else r)
    with serve(no_details) as url:
        statuses = _statuses(run_suite(url, "immutable", examples=5))
    assert statuses["RefreshNFTMetadataByTokenID", "error_codes_and_trace_ids"] is Status.FAILED
    assert statuses["ListNFTs", "page_size_bounds"] is Status.PASSED


def test_a_short_binary_reproducer_sends_its_body_from_a_file(tmp_path: Path) -> None:
    # Schemathesis' own reproducer of a short body is `-d $'...'`, which bash cuts at the first NUL.
    report = tmp_path / "report.json"
    with serve(fails_on_binary_bodies(mock_app())) as url:
        outcome = CliRunner().invoke(main, ["run", "--api", "tokenization", "--base-url", url, "--max-examples",
                                            "10", "--report-json", str(report)])
        assert outcome.exit_code == 1, outcome.output
        data = json.loads(report.read_text())
        errors = next(r for r in data["results"]
                      if r["check"] == "not_a_server_error" and r["operation_id"] == "updateToken")
        commands = [f["curl"] for f in errors["failures"]]
        assert commands, errors
        assert all("--data-binary @" in command and len(command) < 2048 for command in commands), commands
        body_file = Path(shlex.split(commands[0])[-1][1:])
        assert b"\x00" in body_file.read_bytes()
        # Run as a user would, by bash: the same request, so the same 500 the run saw.
        sent = subprocess.run(["bash", "-c", commands[0]], capture_output=True, text=True, timeout=60, check=True)
    assert sent.stdout.startswith("HTTP/1.1 500"), sent.stdout[:300]
