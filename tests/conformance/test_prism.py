"""The suite against a real implementation nobody here wrote: Stoplight Prism 5 mocking `specs/*.yaml`.

Prism runs in dynamic mode (`--dynamic`): every response is generated afresh from the response schemas, so its
reads are random, as the issue measured. A fourth Prism answers the Immutable spec's examples (no
`--dynamic`), as the issue also measured: there the same NFT comes for every token id and every page hands out
the same cursor, bugs that random data hides. Prism validates requests against the spec but keeps no state and checks
no credential's value, so the suite must fail every API; the question is whether each finding is true. Every
(operation, check) that fails must be in TRUE_FINDINGS, which says what Prism does wrong there (each entry was
verified by reading the finding and Prism's log). A finding outside it is either a new Prism bug to verify and
list, or the suite blaming Prism for something it does right, which is a bug of the suite. The bugs issue 16
found in Prism must stay caught by the checks named in ISSUE_BUGS, and Prism's random reads must be reported as
such (UNREPEATABLE), never blamed on a request Prism answered correctly.

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
STACKED = "RefreshMetadataByID"
NO_ALLOW = "answers an undeclared method 405 without the Allow header RFC 9110 requires"
ANY_CREDENTIAL = "accepts any credential value: Prism only checks that the header is there"
FILE_PARTS_ARE_NO_ARRAY = "reads file parts as a string, never an array (not even two of them), and answers 400"
RANDOM_READS = "answers two GETs with no write between them differently (reported as 'reads are not repeatable')"
STORES_NOTHING = "stores nothing: GET shows random values, never the update"
UNKNOWN_IS_200 = "answers 200 with a random resource for a well-formed unknown id (404 due)"
NO_EXTERNAL_LINK = ("never sends `external_link`, which the published Metadata schema requires without listing it "
                    "among its properties: Prism generates listed properties only")

TRUE_FINDINGS: dict[Finding, str] = {
    ("rair", "getToken", "open_read"): RANDOM_READS + ": a read without a credential differs from the owner's",
    ("rair", "updateTokenMetadata", "ignored_auth"): ANY_CREDENTIAL,
    ("rair", "updateTokenMetadata", "unsupported_method"): NO_ALLOW,
    ("rair", "updateTokenMetadata", "negative_data_rejection"):
        "200 to an unknown form field (additionalProperties: false), an empty form (minProperties: 1) and a "
        "multipart body that is no form at all",
    ("rair", "updateTokenMetadata", "positive_data_acceptance"):
        "ignores `encoding` (reads the JSON `attributes` part as a string, 'must be array') and "
        + FILE_PARTS_ARE_NO_ARRAY,
    ("rair", "updateTokenMetadata", "update_round_trip"):
        "stores nothing: a valid update is 400 (as above) or 200 with random metadata, not the fields sent",
    ("rair", "updateTokenMetadata", "non_owner_forbidden"):
        "knows no owners: a non-owner's valid update is 200, or 400 for the multipart reasons above, never 403",
    ("rair", "updateTokenMetadata", "non_media_rejected"):
        "never judges a file's type (no 415); " + FILE_PARTS_ARE_NO_ARRAY,
    ("rair", "updateTokenMetadata", "uploaded_file_served"):
        "keeps no uploads (no URL serves one); " + FILE_PARTS_ARE_NO_ARRAY,
    ("rair", "updateTokenMetadata", "unknown_resources"): UNKNOWN_IS_200 + " (token, product, contract, network)",
    ("rair", "updateTokenMetadata", "isolation"):
        "400 to a valid update (the `attributes` part read as a string); else " + RANDOM_READS,
    ("rair", "updateTokenMetadata", "monotonic_reads"): RANDOM_READS,
    ("rair", "updateTokenMetadata", "limits_past_bound"): RANDOM_READS + " around its correct 400",
    ("rair", "updateTokenMetadata", "limits_at_bound"): "400 to exactly max_files files: " + FILE_PARTS_ARE_NO_ARRAY,
    ("rair", "updateTokenMetadata", "credentials"): RANDOM_READS + " around its correct 401",
    ("rair", "updateTokenMetadata", "file_media_types"): "keeps no uploads; " + FILE_PARTS_ARE_NO_ARRAY,
    ("rair", "updateTokenMetadata", "bodies"): "200 to an unknown form field (additionalProperties: false), not 400",
    ("rair", "updateTokenMetadata", "media_names"):
        "200 to `image` naming a file not uploaded with it: Prism cannot know the spec's prose rule",
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
    ("immutable", "GetNFT", "unknown_resources"): UNKNOWN_IS_200 + " (token ids ListNFTs does not list)",
    ("immutable", "GetNFT", "nft_identity"): "answers GetNFT with an NFT of another token_id, contract and chain",
    ("immutable", "GetNFT", "reads_repeatable"): RANDOM_READS,
    ("immutable", "GetNFT", "monotonic_reads"): "stores nothing: GET NFT never shows the refresh",
    ("immutable", "GetNFT", "refresh_timestamps"): "stores nothing: GET NFT never shows the refresh",
    ("immutable", "ListNFTs", "pagination"):
        "lists random NFTs, not the collection's, and hands out a next_cursor on every page",
    ("immutable", "ListNFTs", "page_size_bounds"): "ignores page_size: 3 NFTs for page_size=1",
    ("immutable", REFRESH, "credentials"): "202 to the key behind a Bearer or Basic scheme: " + ANY_CREDENTIAL,
    ("immutable", REFRESH, "response_bodies"): "answers GetNFT of an unknown token 200, so no 404 body to judge",
    ("immutable", REFRESH, "refresh_isolation"):
        RANDOM_READS + "; answering its examples, it stores nothing, so the refresh never shows",
    ("immutable", REFRESH, "refresh_size_bounds"): "202 to 251 items: the body is not validated",
    ("immutable", REFRESH, "rate_limit_coherence"): "the imx-* rate headers are random words, not counts",
    # Stacked metadata (issue 12), each verified against a Prism serving specs/immutable.yaml.
    ("immutable", "GetMetadata", "unsupported_method"): NO_ALLOW,
    ("immutable", "ListMetadata", "unsupported_method"): NO_ALLOW,
    ("immutable", STACKED, "unsupported_method"): NO_ALLOW,
    ("immutable", "GetMetadata", "response_schema_conformance"): NO_EXTERNAL_LINK,
    ("immutable", "ListMetadata", "response_schema_conformance"): NO_EXTERNAL_LINK,
    ("immutable", "ListMetadata", "negative_data_rejection"):
        "answers 200 to `from_updated_at=`, which is no date-time",
    ("immutable", STACKED, "negative_data_rejection"):
        "skips the stacked refresh body's validation: 202 to `{}`, `[{}]` items, 11 items or a metadata_id that is "
        "no UUID",
    ("immutable", STACKED, "response_schema_conformance"):
        "answers a body that is not JSON with its own `{\"error\": {\"code\": \"invalid_json\"}}`, not Immutable's "
        "error shape",
    ("immutable", STACKED, "ignored_auth"): ANY_CREDENTIAL,
    ("immutable", STACKED, "stacked_unknown_metadata"): "knows no metadata: 202 to a metadata_id the collection "
                                                        "does not have",
    ("immutable", STACKED, "stacked_refresh_visible"): "the imx-* rate headers are random words, not counts (and it "
                                                       "stores nothing)",
    ("immutable", STACKED, "stacked_shared_budget"): "the imx-* rate headers are random words, not counts",
    ("tokenization", "getToken", "ignored_auth"): ANY_CREDENTIAL,
    ("tokenization", "updateToken", "ignored_auth"): ANY_CREDENTIAL,
    ("tokenization", "updateToken", "unsupported_method"): NO_ALLOW,
    ("tokenization", "updateToken", "negative_data_rejection"):
        "accepts an unknown form field (additionalProperties: false)",
    ("tokenization", "updateToken", "positive_data_acceptance"): FILE_PARTS_ARE_NO_ARRAY,
    ("tokenization", "updateToken", "update_round_trip"): STORES_NOTHING,
    ("tokenization", "updateToken", "foreign_id_removal"): "200 to removing ids that are not the token's",
    ("tokenization", "updateToken", "wrong_file_type"):
        "never judges a file's content (no 415); " + FILE_PARTS_ARE_NO_ARRAY,
    ("tokenization", "updateToken", "percentage_out_of_range"): RANDOM_READS + " around its correct 400",
    ("tokenization", "updateToken", "file_too_large"): RANDOM_READS + " around its correct 413",
    ("tokenization", "updateToken", "limits_past_bound"): RANDOM_READS + " around its correct 400 and 413",
    ("tokenization", "updateToken", "credentials"): RANDOM_READS + " around its correct 401",
    ("tokenization", "updateToken", "unknown_resources"): UNKNOWN_IS_200,
    ("tokenization", "updateToken", "isolation"): RANDOM_READS,
    ("tokenization", "updateToken", "monotonic_reads"): RANDOM_READS,
    ("tokenization", "updateToken", "limits_at_bound"): STORES_NOTHING + " (salable_percentage 100 sent)",
    ("tokenization", "updateToken", "files"): "400 to an added image and document: " + FILE_PARTS_ARE_NO_ARRAY,
    ("tokenization", "updateToken", "timestamps"):
        "stores nothing: updated_at does not advance with an update, and created_at changes on every read",
    ("tokenization", "updateToken", "bodies"): "answers GET of a token with a random token of another id",
}

# Prism answering the spec's examples (without --dynamic), as the issue measured it: Immutable only, read-only.
EXAMPLES_SERVER = "immutable-examples"
SERVERS = {**{api: (api, True) for api in APIS}, EXAMPLES_SERVER: ("immutable", False)}  # name: (api, dynamic)

# The Prism bugs issue 16 names, each with the server and the (operation, check) that must catch it read-only.
ISSUE_BUGS: dict[tuple[str, str, str], str] = {
    ("rair", "updateTokenMetadata", "unknown_resources"): "unknown tokens answered 200",
    ("tokenization", "updateToken", "unknown_resources"): "unknown tokens answered 200",
    ("immutable", "GetNFT", "unknown_resources"): "unknown tokens answered 200",
    (EXAMPLES_SERVER, "GetNFT", "unknown_resources"): "unknown tokens answered 200 (the example NFT 1)",
    ("immutable", "GetNFT", "nft_identity"): "a random NFT for the one asked for",
    (EXAMPLES_SERVER, "GetNFT", "nft_identity"): "NFT 1 for nfts/2",
    ("immutable", "ListNFTs", "page_size_bounds"): "page_size ignored (3 NFTs for page_size=1)",
    ("immutable", "ListNFTs", "pagination"): "random NFTs listed, not the collection's",
    (EXAMPLES_SERVER, "ListNFTs", "pagination"): "a cursor that never ends: the example's next_cursor on every "
                                                 "page, so token 1 comes again on page 2",
}

# Checks that compare reads around a request Prism handles correctly (a rejection) or that cannot change what
# they read (an update of another token): against Prism's random reads each must say the reads do not repeat,
# never blame that request. True marks the checks that run only with --allow-destructive.
UNREPEATABLE: dict[Finding, bool] = {
    ("rair", "updateTokenMetadata", "limits_past_bound"): False,
    ("rair", "updateTokenMetadata", "credentials"): False,
    ("tokenization", "updateToken", "percentage_out_of_range"): False,
    ("tokenization", "updateToken", "file_too_large"): False,
    ("tokenization", "updateToken", "limits_past_bound"): False,
    ("tokenization", "updateToken", "credentials"): False,
    ("tokenization", "updateToken", "isolation"): True,
    ("immutable", REFRESH, "refresh_isolation"): True,
}


class PrismServers:
    """One Prism per entry of SERVERS, and each (server, destructive) run of the suite against it, run once."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self._runs: dict[tuple[str, bool], RunResult] = {}

    def result(self, server: str, destructive: bool) -> RunResult:
        key = (server, destructive)
        if key not in self._runs:
            # Prism never applies a refresh, so waiting the default 10 s for one only adds time.
            self._runs[key] = run_suite(self.urls[server], SERVERS[server][0], destructive=destructive,
                                        examples=EXAMPLES, immutable={"refresh_timeout": 0.5})
        return self._runs[key]


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServers]:
    if shutil.which("node") is None:
        pytest.skip("Stoplight Prism runs on Node.js, which is not on PATH")
    bench = load_bench()
    logs = tmp_path_factory.mktemp("prism")
    servers = {}
    try:
        for name, (api, dynamic) in SERVERS.items():
            try:
                server = bench.prism_server(ROOT / "specs" / f"{api}.yaml", logs / f"{name}.log",
                                            name=f"prism {name}", dynamic=dynamic)
            except SystemExit as missing:  # npm_tool's word when npm is not there to install Prism
                pytest.skip(str(missing))
            server.start()
            servers[name] = server
        yield PrismServers({name: server.base_url for name, server in servers.items()})
    finally:
        for server in servers.values():
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
    unexplained = _failures(result, api) - TRUE_FINDINGS.keys()
    assert not unexplained, (
        "findings against Prism that TRUE_FINDINGS does not list (verify each: a Prism bug goes into the table, "
        "a suite bug gets fixed):\n" + _details(result, lambda finding: finding in unexplained)
    )


@pytest.mark.parametrize("destructive", [False, True], ids=["read-only", "destructive"])
@pytest.mark.parametrize("api", APIS)
def test_no_finding_blames_a_request_for_prisms_random_reads(prism: PrismServers, api: str,
                                                             destructive: bool) -> None:
    result = prism.result(api, destructive)
    by_finding = {(api, r.operation.operation_id, r.check): r for r in result.results}
    for finding, needs_destructive in UNREPEATABLE.items():
        if finding[0] != api or (needs_destructive and not destructive):
            continue
        failures = by_finding[finding].failures
        assert failures, f"{_label(finding)} passed against Prism's random reads"
        said = failures[0].title + failures[0].actual
        assert "reads are not repeatable" in said, _details(result, {finding}.__contains__)
    blamed = {(api, r.operation.operation_id, r.check) for r in result.failed for f in r.failures
              if "reads differently after it" in f.actual}
    assert not blamed, _details(result, blamed.__contains__)


def test_prism_answering_examples_fails_and_only_for_what_it_does_wrong(prism: PrismServers) -> None:
    result = prism.result(EXAMPLES_SERVER, destructive=False)
    assert result.exit_code == 1
    unexplained = _failures(result, "immutable") - TRUE_FINDINGS.keys()
    assert not unexplained, _details(result, unexplained.__contains__)


@pytest.mark.parametrize("bug", sorted(ISSUE_BUGS), ids=_label)
def test_the_prism_bugs_of_the_issue_are_caught(prism: PrismServers, bug: tuple[str, str, str]) -> None:
    server, operation, check = bug
    assert (operation, check) in failed_checks(prism.result(server, destructive=False)), ISSUE_BUGS[bug]
