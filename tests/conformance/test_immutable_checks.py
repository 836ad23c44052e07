"""Immutable behaviour checks: what their findings say on servers broken in ways the variants do not cover."""

from __future__ import annotations

from typing import Any

from conformance.results import CheckResult, Status
from conformance.runner import RunConfig, run_behaviour_checks
from conformance.target import load_target
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
