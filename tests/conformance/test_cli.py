"""`conformance run` through click's CliRunner: exit codes, JUnit XML, JSON report, and the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import click
from click.testing import CliRunner

from conformance.cli import main
from conformance.runner import planned_checks
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *args])
    return result.exit_code, result.output


class TestExitCodes:
    """0 when nothing failed, 1 when a check failed, 2 when the suite cannot run."""

    def test_clean_mock_is_0_and_reports_are_complete(self, tmp_path: Path) -> None:
        junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
        with serve(mock_app()) as url:
            code, output = invoke("--api", "all", "--base-url", url, "--max-examples", "5",
                                  "--junit-xml", str(junit), "--report-json", str(report))
        assert code == 0, output
        assert " 0 failed" in output
        planned = planned_checks(("rair", "immutable", "tokenization"))
        root = ET.parse(junit).getroot()
        cases = {(case.get("classname"), case.get("name")) for case in root.iter("testcase")}
        assert cases == {(f"{op.api}.{op.operation_id}", check) for op, check in planned}
        times = [float(case.get("time", "")) for case in root.iter("testcase")]
        assert all(time >= 0 for time in times)
        assert sum(times) > 0, "test cases carry their time"
        assert [suite.get("name") for suite in root.iter("testsuite")] == [
            "conformance.rair", "conformance.immutable", "conformance.tokenization"]
        data = json.loads(report.read_text())
        assert data["exit_code"] == 0
        assert len(data["results"]) == len(planned)
        assert {r["status"] for r in data["results"]} <= {"passed", "skipped"}

    def test_broken_server_is_1_and_names_the_check(self, tmp_path: Path) -> None:
        junit = tmp_path / "junit.xml"
        with serve(variants.wrong_content_type(mock_app())) as url:
            code, output = invoke("--api", "tokenization", "--base-url", url, "--max-examples", "5",
                                  "--junit-xml", str(junit))
        assert code == 1, output
        assert "content_type_conformance" in output
        assert "expected:" in output
        assert "got:" in output
        assert "curl " in output
        failures = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")
                    if case.find("failure") is not None]
        assert "content_type_conformance" in failures

    def test_unreachable_server_is_2(self) -> None:
        with serve(mock_app()) as url:
            pass  # the server is gone again: nothing listens on its port now
        code, output = invoke("--api", "rair", "--base-url", url)
        assert code == 2
        assert "cannot reach the server" in output
        assert "Traceback" not in output

    def test_bad_target_is_2(self, tmp_path: Path) -> None:
        target = tmp_path / "target.yaml"
        target.write_text("rair: {}\n")
        code, output = invoke("--api", "rair", "--base-url", "http://127.0.0.1:9", "--target", str(target))
        assert code == 2
        assert "rair.tokens is missing" in output

    def test_usage_error_is_2(self) -> None:
        code, _ = invoke("--api", "nope", "--base-url", "http://127.0.0.1:9")
        assert code == 2


class TestPytestPlugin:
    """`pytest --pyargs conformance --base-url URL` runs one test per operation and check (entry-point plugin)."""

    def test_plugin_reports_each_check(self, tmp_path: Path) -> None:
        junit = tmp_path / "plugin.xml"
        with serve(mock_app()) as url:
            completed = subprocess.run(
                [sys.executable, "-m", "pytest", "--pyargs", "conformance",
                 "--base-url", url, "--conformance-api", "tokenization", "--conformance-max-examples", "5",
                 "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", "--rootdir", str(tmp_path)],
                cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
        assert "test_conformance[tokenization.getToken.not_a_server_error]" in names
        assert len(names) == len(planned_checks(("tokenization",)))


class TestConventions:
    """-h, --version, exit codes in the help, and every `run` option from a CONFORMANCE_* variable."""

    def test_help_lists_exit_codes_and_each_option_environment_variable(self) -> None:
        for args in (["-h"], ["run", "-h"], ["run", "--help"]):
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
            assert "Exit codes:" in result.output
            assert "2  the suite could not run" in result.output
        help_text = " ".join(CliRunner().invoke(main, ["run", "-h"]).output.split())
        run_command = main.commands["run"]
        for option in run_command.params:
            if isinstance(option, click.Option) and option.name != "help":
                flag = max(option.opts, key=len)
                variable = "CONFORMANCE_" + flag.removeprefix("--").replace("-", "_").upper()
                assert option.envvar == variable
                assert f"env var: {variable}" in help_text, variable

    def test_version_comes_from_the_package_metadata(self) -> None:
        result = CliRunner().invoke(main, ["--version"])
        assert result.exit_code == 0
        assert result.output == f"conformance, version {importlib.metadata.version('token-metadata-mock')}\n"

    def test_options_come_from_the_environment(self, tmp_path: Path) -> None:
        junit = tmp_path / "junit.xml"
        with serve(mock_app()) as url:
            result = CliRunner().invoke(main, ["run"], env={
                "CONFORMANCE_API": "tokenization", "CONFORMANCE_BASE_URL": url, "CONFORMANCE_MAX_EXAMPLES": "5",
                "CONFORMANCE_SEED": "3", "CONFORMANCE_JUNIT_XML": str(junit),
                "CONFORMANCE_ALLOW_DESTRUCTIVE": "true"})
        assert result.exit_code == 0, result.output
        assert "seed: 3  max examples: 5  destructive checks: on" in result.stdout
        suites = [suite.get("name") for suite in ET.parse(junit).getroot().iter("testsuite")]
        assert suites == ["conformance.tokenization"]

    def test_a_flag_on_the_command_line_wins_over_the_environment(self) -> None:
        result = CliRunner().invoke(main, ["run", "--api", "nope"], env={"CONFORMANCE_API": "rair",
                                                                        "CONFORMANCE_BASE_URL": "http://127.0.0.1:9"})
        assert result.exit_code == 2
        assert "'nope' is not one of" in result.output
