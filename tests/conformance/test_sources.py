"""Every check says whose rule it is; --documented-only runs only the vendors' own."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.apis import CHECKS as BEHAVIOUR_CHECKS
from conformance.cli import main
from conformance.results import RuleSource
from conformance.schema_checks import SCHEMA_CHECKS, operations, schema_rule_source
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve


def invoke(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, ["run", *args])
    return outcome.exit_code, outcome.output


def test_schema_sources_are_honest() -> None:
    # Immutable's refresh is in its published OpenAPI; its 5xx ban and our tightened request schema are not.
    refresh = "RefreshNFTMetadataByTokenID"
    assert schema_rule_source("immutable", refresh, "response_schema_conformance")[0] is RuleSource.VENDOR_OPENAPI
    assert schema_rule_source("immutable", refresh, "not_a_server_error")[0] is RuleSource.PROJECT
    assert schema_rule_source("immutable", refresh, "negative_data_rejection")[0] is RuleSource.PROJECT
    # Tokenization publishes pages only: the credential is the vendor's word, the schemas our transcription.
    assert schema_rule_source("tokenization", "updateToken", "ignored_auth")[0] is RuleSource.VENDOR_PAGE
    assert schema_rule_source("tokenization", "updateToken", "response_schema_conformance")[0] is RuleSource.PROJECT
    for api in ("rair", "immutable", "tokenization"):
        for operation in operations(api):  # type: ignore[arg-type]
            for check in SCHEMA_CHECKS:
                assert schema_rule_source(api, operation.operation_id, check)[1]  # type: ignore[arg-type]
    assert all(check.cite for checks in BEHAVIOUR_CHECKS.values() for check in checks)


def test_reports_carry_source_and_cite(tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    with serve(variants.wrong_allow_header(mock_app())) as url:
        code, output = invoke("--api", "tokenization", "--base-url", url, "--max-examples", "5",
                              "--junit-xml", str(junit), "--report-json", str(report))
    assert code == 1
    assert "rule:     project: RFC 9110" in output
    data = json.loads(report.read_text())
    assert {r["source"] for r in data["results"]} == {"project", "vendor-page"}
    assert all(r["cite"] for r in data["results"])
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert properties["source"] in {"project", "vendor-page"}
        assert properties["cite"]
        failure = case.find("failure")
        if failure is not None:
            assert (failure.text or "").startswith(f"rule: {properties['source']}: ")


def test_summary_comes_before_details() -> None:
    with serve(variants.wrong_allow_header(mock_app())) as url:
        code, output = invoke("--api", "tokenization", "--base-url", url, "--max-examples", "5")
    assert code == 1
    counts = output.index(" failed, ")
    listed = output.index("✗ tokenization updateToken · allow_header_conformance (project)")
    assert counts < listed < output.index("tokenization updateToken  (PUT ") < output.index("Failures")


def test_documented_only_leaves_out_this_projects_rules(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # A wrong Allow header breaks a rule of this project (RFC 9110 as adopted in specs/), not the vendor's.
    with serve(variants.wrong_allow_header(mock_app())) as url:
        code, output = invoke("--api", "tokenization", "--base-url", url, "--max-examples", "5",
                              "--documented-only", "--report-json", str(report))
    assert code == 0, output
    data = json.loads(report.read_text())
    assert data["settings"]["documented_only"] is True
    for result in data["results"]:
        if result["source"] == "project":
            assert result["status"] == "skipped"
            assert "--documented-only" in result["skip_reason"] or "--allow-destructive" in result["skip_reason"]
    ran = [r for r in data["results"] if r["status"] == "passed"]
    assert ran, "the vendor's own rules still ran"
    assert all(r["source"] != "project" for r in ran)


def test_plugin_documented_only(tmp_path: Path) -> None:
    junit = tmp_path / "plugin.xml"
    with serve(mock_app()) as url:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "conformance", "--base-url", url,
             "--conformance-api", "tokenization", "--conformance-max-examples", "3", "--conformance-documented-only",
             "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", "--rootdir", str(tmp_path)],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    skipped = cases["test_conformance[tokenization.updateToken.percentage_out_of_range]"].find("skipped")
    assert skipped is not None
    assert "--documented-only" in (skipped.get("message") or "")


@pytest.mark.parametrize("name", ["body_limits", "refresh_size_bounds"])
def test_size_limits_measured_as_this_project_reads_them_are_its_rules(name: str) -> None:
    # The vendor's OpenAPI says only "should not exceed 16 KiB"; bytes of compact JSON, token id included, bound
    # allowed, is this project's reading, so --documented-only must leave it out and reports must say so.
    check = next(c for c in BEHAVIOUR_CHECKS["immutable"] if c.name == name)
    assert check.source is RuleSource.PROJECT
    assert "should not exceed 16 KiB" in check.cite
    assert "compact UTF-8 JSON" in check.cite
