"""`conformance validate-traffic`: recorded traffic held to the single-exchange rules, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from conformance.cli import main
from conformance.html_report import to_html
from conformance.report import print_summary, to_json
from conformance.results import RunResult, RunSettings
from conformance.traffic import HttpExchange, TrafficChecker
from conformance.traffic.har import har_document, har_entry
from conformance.traffic.rules import rate_limit_problems

NFT_PATH = "/v1/chains/imtbl-zkevm-testnet/collections/0x8a90cab2b38dba80c64b7734e58ee1db38b8992e/nfts/1"
NFT = {"chain": {"id": "eip155:13473", "name": "imtbl-zkevm-testnet"}, "token_id": "1",
       "contract_address": "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e", "contract_type": "ERC721",
       "indexed_at": "2026-01-01T00:00:00.000000Z", "updated_at": "2026-01-01T00:00:00.000000Z",
       "metadata_synced_at": "2026-01-01T00:00:00.000000Z", "metadata_id": "d17b139f-ae97-9509-35f5-06ee6aa13261",
       "name": "Sword", "description": None, "image": None, "external_link": None, "external_url": None,
       "animation_url": None, "youtube_url": None, "attributes": [], "total_supply": "1"}
JSON = [("content-type", "application/json")]


def exchange(status: int, body: object, headers: list[tuple[str, str]] = JSON) -> HttpExchange:
    return HttpExchange(method="GET", path=NFT_PATH, status=status, response_headers=headers,
                        response_body=json.dumps(body).encode())


def write_har(path: Path, *exchanges: HttpExchange) -> Path:
    from datetime import UTC, datetime

    entries = [har_entry(e, url="https://api.sandbox.immutable.com" + e.path, started=datetime(2026, 1, 1, tzinfo=UTC),
                         duration_ms=1.0) for e in exchanges]
    path.write_text(json.dumps(har_document(entries, creator="test", version="1")))
    return path


def test_a_valid_read_breaks_no_rule() -> None:
    assert TrafficChecker().check(exchange(200, {"result": NFT})) == []


@pytest.mark.parametrize(("status", "body", "headers", "rule"), [
    (200, {"result": {**NFT, "token_id": 1}}, JSON, "response-schema"),
    (200, {"result": NFT}, [("content-type", "text/html")], "documented-content-type"),
    (404, {"error": "gone"}, JSON, "error-shape"),
    (409, {"message": "x", "link": "l", "trace_id": "t", "code": "CONFLICT", "details": None}, JSON,
     "documented-status"),
    (503, {"oops": True}, JSON, "error-shape"),
])
def test_each_broken_rule_is_named(status: int, body: object, headers: list[tuple[str, str]], rule: str) -> None:
    violations = TrafficChecker().check(exchange(status, body, headers))
    assert rule in {violation.rule.name for violation in violations}
    assert all(violation.operation == "GetNFT" for violation in violations)


def test_head_is_held_to_the_get_operation_without_its_body() -> None:
    head = HttpExchange(method="HEAD", path=NFT_PATH, status=200, response_headers=JSON)
    assert TrafficChecker().check(head) == []
    assert TrafficChecker().operation_of("HEAD", NFT_PATH) == "GetNFT"
    undocumented = HttpExchange(method="HEAD", path=NFT_PATH, status=409, response_headers=JSON)
    assert [v.rule.name for v in TrafficChecker().check(undocumented)] == ["documented-status"]


def test_an_undocumented_error_in_the_apis_shape_breaks_only_the_status_rule() -> None:
    body = {"message": "busy", "link": "l", "trace_id": "t", "code": "SERVICE_UNAVAILABLE", "details": None}
    violations = TrafficChecker().check(exchange(503, body))
    assert [v.rule.name for v in violations] == ["documented-status"]
    assert "status 503 is not documented" in violations[0].message


@pytest.mark.parametrize(("headers", "problem"), [
    ({"imx-refreshes-limit": "5", "imx-remaining-refreshes": "6"}, "is more than"),
    ({"imx-refreshes-limit": "-1"}, "not a whole number"),
    ({"imx-refresh-limit-reset": "soon"}, "neither a number of seconds nor a time"),
    ({"retry-after": "later"}, "not a whole number"),
])
def test_incoherent_rate_limit_headers_are_named(headers: dict[str, str], problem: str) -> None:
    assert any(problem in message for message in rate_limit_problems(headers))


@pytest.mark.parametrize("reset", ["2024-04-16 11:06:07.401553 +0000 UTC", "2026-01-01T00:00:00Z", "3600",
                                   "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_coherent_rate_limit_headers_pass(reset: str) -> None:
    headers = {"imx-refreshes-limit": "5", "imx-remaining-refreshes": "5", "imx-refresh-limit-reset": reset,
               "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert rate_limit_problems(headers) == []


def test_validate_traffic_exits_0_clean_1_with_findings_and_writes_the_reports(tmp_path: Path) -> None:
    clean = write_har(tmp_path / "clean.har", exchange(200, {"result": NFT}))
    result = CliRunner().invoke(main, ["validate-traffic", str(clean)])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    # Nothing was generated from a seed: the header says what was checked instead of "seed: 0".
    assert "recorded traffic, checked offline" in result.output
    assert "seed" not in result.output

    faulty = write_har(tmp_path / "faulty.har", exchange(200, {"result": NFT}), exchange(404, {"error": "gone"}))
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    result = CliRunner().invoke(main, ["validate-traffic", str(faulty), "--junit-xml", str(junit),
                                       "--report-json", str(report)])
    assert result.exit_code == 1, result.output
    assert "immutable GetNFT · error-shape" in result.output
    assert "HAR entry 2: GET" in result.output
    assert json.loads(report.read_text())["settings"]["seed"] is None
    failed = [r for r in json.loads(report.read_text())["results"] if r["status"] == "failed"]
    assert [(r["operation_id"], r["check"], r["passed"]) for r in failed] == [("GetNFT", "error-shape", 1)]
    assert '<testcase classname="immutable.GetNFT" name="error-shape"' in junit.read_text()


def test_a_cors_preflight_in_the_traffic_is_not_checked(tmp_path: Path) -> None:
    preflight = HttpExchange(method="OPTIONS", path=NFT_PATH, status=200,
                             request_headers=[("Origin", "https://app.example"),
                                              ("Access-Control-Request-Method", "GET")],
                             response_headers=[("access-control-allow-origin", "*")])
    stray_options = HttpExchange(method="OPTIONS", path=NFT_PATH, status=200)  # no preflight: a call like any
    assert TrafficChecker().check(preflight) == []
    assert [v.rule.name for v in TrafficChecker().check(stray_options)] == ["documented-operation"]

    har = write_har(tmp_path / "traffic.har", preflight, exchange(200, {"result": NFT}))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["validate-traffic", str(har), "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    checked = json.loads(report.read_text())
    assert {r["operation_id"] for r in checked["results"]} == {"GetNFT"}
    assert (checked["settings"]["seed"], checked["settings"]["max_examples"]) == (None, None)


@pytest.mark.parametrize("seed", [0, 7])
def test_a_generated_runs_seed_is_reported_as_before_seed_0_included(seed: int) -> None:
    settings = RunSettings(base_url="http://sut.test", apis=("immutable",), target_source="fixtures",
                           max_examples=5, seed=seed, workers=2, allow_destructive=True)
    result = RunResult(settings=settings, results=[])
    console = Console(width=400, record=True)
    print_summary(result, console)
    assert console.export_text().splitlines()[0] == (
        f"Conformance run against http://sut.test  target: fixtures  seed: {seed}  max examples: 5  "
        "destructive checks: on")
    assert to_json(result)["settings"]["seed"] == seed
    data = to_html(result).split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(data)["settings"]["seed"] == seed  # the page tests `seed === null`: 0 is a seed


def test_validate_traffic_writes_the_html_report_into_a_new_folder(tmp_path: Path) -> None:
    faulty = write_har(tmp_path / "faulty.har", exchange(404, {"error": "gone"}))
    html = tmp_path / "reports" / "traffic.html"
    result = CliRunner().invoke(main, ["validate-traffic", str(faulty), "--report-html", str(html)])
    assert result.exit_code == 1, result.output
    page = html.read_text()
    assert "GetNFT" in page
    assert "error-shape" in page


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not JSON"),
    ('{"log": {}}', "no log.entries list"),
    ('{"log": {"entries": [{"request": {}}]}}', "entry 1 lacks"),
])
def test_a_file_that_is_not_usable_har_exits_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "traffic.har"
    path.write_text(content)
    result = CliRunner().invoke(main, ["validate-traffic", str(path)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())  # rich folds long lines


def test_a_missing_file_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["validate-traffic", "/nonexistent/traffic.har"])
    assert result.exit_code == 2


STACKED_REFRESH_PATH = ("/v1/chains/imtbl-zkevm-testnet/collections/0x8a90cab2b38dba80c64b7734e58ee1db38b8992e/"
                        "metadata/refresh-metadata")
RATE_HEADERS = [("imx-refreshes-limit", "1000"), ("imx-refresh-limit-reset", "2026-01-01 01:00:00 +0000 UTC"),
                ("imx-remaining-refreshes", "999"), ("retry-after", "0")]
RATE_BODY = {"imx_refreshes_limit": "1000", "imx_refresh_limit_reset": "2026-01-01 01:00:00 +0000 UTC",
             "imx_remaining_refreshes": "999", "retry_after": "0"}


def test_a_stacked_metadata_refresh_is_held_to_its_operation_and_its_rate_headers() -> None:
    item = {"metadata_id": "4e28df8d-f65c-4c11-ba04-6a9dd47b179b", "name": "Steel Helmet", "description": None,
            "image": None, "external_url": None, "animation_url": None, "youtube_url": None, "attributes": []}

    def refresh(headers: list[tuple[str, str]]) -> HttpExchange:
        return HttpExchange(method="POST", path=STACKED_REFRESH_PATH,
                            request_headers=[*JSON, ("x-immutable-api-key", "sk_key")],
                            request_body=json.dumps({"metadata": [item]}).encode(),
                            status=202, response_headers=JSON + headers, response_body=json.dumps(RATE_BODY).encode())

    assert TrafficChecker().operation_of("POST", STACKED_REFRESH_PATH) == "RefreshMetadataByID"
    assert TrafficChecker().check(refresh(RATE_HEADERS)) == []
    incoherent = [*RATE_HEADERS[:2], ("imx-remaining-refreshes", "1001"), RATE_HEADERS[3]]
    assert [(v.operation, v.rule.name) for v in TrafficChecker().check(refresh(incoherent))] == [
        ("RefreshMetadataByID", "rate-limit-coherent")]
    assert [v.rule.name for v in TrafficChecker().check(refresh(RATE_HEADERS[1:]))] == ["documented-headers"]
