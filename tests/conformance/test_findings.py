"""Findings a user can act on: a server whose reads wander is told so, not blamed for changing on rejection."""

from __future__ import annotations

import itertools
import json
from typing import Any

from conformance.results import Status
from tests.conformance import variants
from tests.conformance.conftest import mock_app, run_suite, serve

RAIR = "/api/nft/network/"


def wandering_reads(app: Any) -> Any:
    """Every other read of a RAIR token shows an older name, as a lagging replica would; nothing is written."""
    reads = itertools.count()

    def stale(body: Any) -> Any:
        if next(reads) % 2 and isinstance(body, dict) and "result" in body:
            body["result"]["metadata"]["name"] = "an older name"
        return body

    return variants.rewrite_responses(app, lambda s: variants._is("GET", RAIR, s),
                                      lambda r: variants.edit_json(r, stale) if r[0] == 200 else r)


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


def test_a_rejection_that_changes_state_is_still_blamed() -> None:
    with serve(refused_but_applied(mock_app())) as url:
        result = run_suite(url, "rair", examples=5)
    failures = _finding(result, "non_owner_forbidden")
    assert any("the rejected request (403) to change nothing" in f.expected for f in failures), failures
    assert all(f.title != "reads are not repeatable" for f in failures)
