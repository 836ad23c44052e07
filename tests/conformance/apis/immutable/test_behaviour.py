"""Immutable behaviour checks: what their findings say on servers broken in ways the variants do not cover."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from conformance.results import CheckResult, Status
from conformance.runner import RunConfig, run_behaviour_checks
from conformance.target import load_target
from mockserver.clock import ManualClock
from mockserver.settings import load_settings
from mockserver.web import create_app
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve


def _behaviour(app: Any) -> dict[str, CheckResult]:
    with serve(app) as url:
        config = RunConfig(base_url=url, target=load_target(), apis=("immutable",), max_examples=10,
                           allow_destructive=True)
        return {result.check: result for result in run_behaviour_checks("immutable", config)}


def test_unrepeatable_reads_are_reported_not_blamed_on_a_request() -> None:
    """Reads that change on their own are reported as such, not as a refresh that leaked into other NFTs or a
    rejected request that changed something."""
    results = _behaviour(variants.read_time_in_updated_at(mock_app()))
    for check in ("refresh_isolation", "credentials", "unknown_resources", "refresh_size_bounds"):
        assert results[check].status is Status.FAILED, check
        assert "reads are not repeatable" in results[check].failures[0].actual, check


def test_unrepeatable_reads_do_not_hide_a_wrong_status() -> None:
    """On a server whose reads change by themselves, a key accepted with a scheme is still the finding."""
    results = _behaviour(variants.api_key_scheme_ignored(variants.read_time_in_updated_at(mock_app())))
    assert results["credentials"].failures[0].expected.startswith("status 401")


def test_a_chain_of_the_wrong_type_is_judged_not_a_crash() -> None:
    """`chain` as a bare name (off schema, which the schema checks report) still lets identity be judged."""

    def bare_chain(nft: dict[str, Any]) -> None:
        nft["chain"] = nft["chain"]["name"]

    broken = variants.rewrite_responses(mock_app(), lambda scope: scope["path"].startswith("/v1/"),
                                        lambda response: variants.edit_nfts(response, bare_chain))
    results = _behaviour(broken)
    assert results["nft_identity"].status is Status.PASSED


def test_reset_times_are_judged_by_the_servers_own_date() -> None:
    """A server whose clock stands at 2026-01-01, saying so in its Date header, has a reset in its future."""
    clock = ManualClock()
    app = create_app(load_settings(environ={}), clock=clock)

    def own_date(response: variants.Response) -> variants.Response:
        date = format_datetime(datetime.fromtimestamp(clock.time(), tz=UTC), usegmt=True)
        return variants.set_header(response, b"date", date.encode())

    with serve(variants.rewrite_responses(app, lambda scope: True, own_date), date_header=False) as url:
        config = RunConfig(base_url=url, target=load_target(), apis=("immutable",), max_examples=10,
                           allow_destructive=True)
        results = {result.check: result for result in run_behaviour_checks("immutable", config)}
    for check in ("rate_limit_headers", "rate_limit_coherence", "quota_exhaustion"):
        assert results[check].status is Status.PASSED, (check, results[check].failures)
