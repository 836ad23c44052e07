"""The suite against a real implementation nobody here wrote: Stoplight Prism 5 mocking `specs/*.yaml`.

Prism runs in dynamic mode (`--dynamic`): every response is generated afresh from the response schemas, so its
reads are random, as the issue measured. It validates requests against the spec but keeps no state and checks
no credential's value, so the suite must fail every API; the question is whether each finding is true. Every
(operation, check) that fails must be in TRUE_FINDINGS, which says what Prism does wrong there (each entry was
verified by reading the finding and Prism's log). A finding outside it is either a new Prism bug to verify and
list, or the suite blaming Prism for something it does right, which is a bug of the suite.

Prism is installed from npm into bench/.tools/ (git-ignored), as `bench/run --prism` does. Deselect these tests
with `-m "not prism"`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.results import RunResult
from tests.bench import load_bench
from tests.conformance.conftest import failed_checks, run_suite

# The first test also installs Prism from npm on a fresh machine and starts three Node processes.
pytestmark = [pytest.mark.prism, pytest.mark.network, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
APIS = ("rair", "immutable", "tokenization")
EXAMPLES = 10
Finding = tuple[str, str, str]  # (api, operationId, check)

REFRESH = "RefreshNFTMetadataByTokenID"
NO_ALLOW = "answers an undeclared method 405 without the Allow header RFC 9110 requires"
ANY_CREDENTIAL = "accepts any credential value: Prism only checks that the header is there"
ONE_FILE_IS_NO_ARRAY = "reads a single file part as a string, not an array of one, and answers 400"

TRUE_FINDINGS: dict[Finding, str] = {
    ("rair", "getToken", "ignored_auth"): ANY_CREDENTIAL,
    ("rair", "updateTokenMetadata", "ignored_auth"): ANY_CREDENTIAL,
    ("rair", "updateTokenMetadata", "unsupported_method"): NO_ALLOW,
    ("rair", "updateTokenMetadata", "negative_data_rejection"):
        "200 to an unknown form field (additionalProperties: false), an empty form (minProperties: 1) and a "
        "multipart body that is no form at all",
    ("rair", "updateTokenMetadata", "positive_data_acceptance"):
        "ignores `encoding` (reads the JSON `attributes` part as a string, 'must be array') and "
        + ONE_FILE_IS_NO_ARRAY,
    ("rair", "updateTokenMetadata", "update_round_trip"):
        "stores nothing: a valid update is 400 (as above) or 200 with random metadata, not the fields sent",
    ("rair", "updateTokenMetadata", "non_owner_forbidden"):
        "knows no owners: a non-owner's valid update is 200, or 400 for the multipart reasons above, never 403",
    ("rair", "updateTokenMetadata", "non_media_rejected"):
        "never judges a file's type (no 415); " + ONE_FILE_IS_NO_ARRAY,
    ("rair", "updateTokenMetadata", "uploaded_file_served"):
        "keeps no uploads (no URL serves one); " + ONE_FILE_IS_NO_ARRAY,
    ("immutable", "GetNFT", "unsupported_method"): NO_ALLOW,
    ("immutable", "ListNFTs", "unsupported_method"): NO_ALLOW,
    ("immutable", REFRESH, "unsupported_method"): NO_ALLOW,
    ("immutable", "ListNFTs", "negative_data_rejection"): "answers 200 to `from_updated_at=`, which is no date-time",
    ("immutable", REFRESH, "negative_data_rejection"):
        "skips the refresh body's validation (its nullable enums list null): 202 to `{}` or `[{}]` items",
    ("immutable", REFRESH, "response_schema_conformance"):
        "answers a body that is not JSON with its own `{\"error\": {\"code\": \"invalid_json\"}}`, not Immutable's "
        "error shape",
    ("immutable", REFRESH, "ignored_auth"): ANY_CREDENTIAL,
    ("immutable", REFRESH, "error_codes_and_trace_ids"):
        "202 where 401 (unknown key), 403 (read-only key, another project's key or collection) or 400 is due",
    ("immutable", REFRESH, "body_limits"): "202 to 251 items: the body is not validated",
    ("immutable", REFRESH, "refresh_visible"): "stores nothing: GET NFT shows random metadata, never the refresh",
    ("immutable", REFRESH, "rate_limit_headers"): "the imx-* rate headers are random words, not counts",
    ("immutable", REFRESH, "quota_exhaustion"): "the imx-* rate headers are random words, not counts",
    ("tokenization", "getToken", "ignored_auth"): ANY_CREDENTIAL,
    ("tokenization", "updateToken", "ignored_auth"): ANY_CREDENTIAL,
    ("tokenization", "updateToken", "unsupported_method"): NO_ALLOW,
    ("tokenization", "updateToken", "negative_data_rejection"):
        "accepts an unknown form field (additionalProperties: false)",
    ("tokenization", "updateToken", "positive_data_acceptance"): ONE_FILE_IS_NO_ARRAY,
    ("tokenization", "updateToken", "update_round_trip"): "stores nothing: GET shows random values, not those sent",
    ("tokenization", "updateToken", "foreign_id_removal"): "200 to removing ids that are not the token's",
    ("tokenization", "updateToken", "wrong_file_type"):
        "never judges a file's content (no 415); " + ONE_FILE_IS_NO_ARRAY,
}

# Findings that blame Prism for something it does right, with their cause. Each check rejects correctly
# (400 for salable_percentage 101, 413 for a file over the limit) and is then blamed for the difference between
# two random reads around the rejection. The fix belongs to the shared machinery (issue 16, deliverable 5:
# confirm reads repeat before asserting "changed nothing", and say "reads are not repeatable" instead).
FALSE_FINDINGS: dict[Finding, str] = {
    ("tokenization", "updateToken", "percentage_out_of_range"): "random reads blamed on a correct 400",
    ("tokenization", "updateToken", "file_too_large"): "random reads blamed on a correct 413",
}


class PrismServers:
    """One Prism per spec, and each (api, destructive) run of the suite against it, run once per module."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self._runs: dict[tuple[str, bool], RunResult] = {}

    def result(self, api: str, destructive: bool) -> RunResult:
        key = (api, destructive)
        if key not in self._runs:
            # Prism never applies a refresh, so waiting the default 10 s for one only adds time.
            self._runs[key] = run_suite(self.urls[api], api, destructive=destructive, examples=EXAMPLES,
                                        immutable={"refresh_timeout": 0.5})
        return self._runs[key]


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServers]:
    if shutil.which("node") is None:
        pytest.skip("Stoplight Prism runs on Node.js, which is not on PATH")
    bench = load_bench()
    logs = tmp_path_factory.mktemp("prism")
    servers = []
    try:
        for api in APIS:
            try:
                server = bench.prism_server(ROOT / "specs" / f"{api}.yaml", logs / f"{api}.log", name=f"prism {api}",
                                            dynamic=True)
            except SystemExit as missing:  # npm_tool's word when npm is not there to install Prism
                pytest.skip(str(missing))
            server.start()
            servers.append(server)
        yield PrismServers({api: server.base_url for api, server in zip(APIS, servers, strict=True)})
    finally:
        for server in servers:
            server.stop()


def _label(finding: Finding) -> str:
    return ".".join(finding)


def _failures(result: RunResult, api: str) -> set[Finding]:
    return {(api, operation, check) for operation, check in failed_checks(result)}


def _details(result: RunResult, wanted: Callable[[Finding], bool]) -> str:
    return "\n".join(
        f"{r.operation.title} {r.check}: {r.failures[0].title} / expected {r.failures[0].expected} / "
        f"got {r.failures[0].actual[:300]}"
        for r in result.failed
        if wanted((r.operation.api, r.operation.operation_id, r.check))
    )


@pytest.mark.parametrize("destructive", [False, True], ids=["read-only", "destructive"])
@pytest.mark.parametrize("api", APIS)
def test_prism_fails_and_only_for_what_it_does_wrong(prism: PrismServers, api: str, destructive: bool) -> None:
    result = prism.result(api, destructive)
    assert result.exit_code == 1
    unexplained = _failures(result, api) - TRUE_FINDINGS.keys() - FALSE_FINDINGS.keys()
    assert not unexplained, (
        "findings against Prism that TRUE_FINDINGS does not list (verify each: a Prism bug goes into the table, "
        "a suite bug gets fixed):\n" + _details(result, lambda finding: finding in unexplained)
    )


@pytest.mark.xfail(reason="the suite blames rejected requests for Prism's random reads (FALSE_FINDINGS); "
                          "fixed by 'reads are not repeatable' in the shared machinery", strict=True)
@pytest.mark.parametrize("destructive", [False, True], ids=["read-only", "destructive"])
def test_no_finding_blames_prism_for_its_random_reads(prism: PrismServers, destructive: bool) -> None:
    result = prism.result("tokenization", destructive)
    blamed = _failures(result, "tokenization") & FALSE_FINDINGS.keys()
    assert not blamed, _details(result, lambda finding: finding in blamed)

