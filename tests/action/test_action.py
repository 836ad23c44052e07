"""The GitHub Action: action.yml's one shell step, scripts/conformance-action.sh, run for real.

GitHub's runner cannot run here, so the YAML is checked for what it hands the script, and the script runs in both
modes: starting the mock itself, and testing a server given by base URL.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main as conformance_main
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "conformance-action.sh"
pytestmark = [pytest.mark.network, pytest.mark.timeout(120)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def run_script(workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The script as the action runs it: a clean CONFORMANCE_* environment, this venv's commands on PATH."""
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("CONFORMANCE_", "MOCKSERVER_", "GITHUB_"))}
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    environ.update(env)
    return subprocess.run(["bash", str(SCRIPT)], cwd=workdir, env=environ, capture_output=True, text=True,
                          timeout=110, check=False)


def test_without_a_base_url_it_starts_the_mock_and_writes_both_reports(tmp_path: Path) -> None:
    outputs = tmp_path / "github-output"
    port = free_port()
    done = run_script(tmp_path, CONFORMANCE_API="tokenization", CONFORMANCE_MAX_EXAMPLES="3",
                      CONFORMANCE_ALLOW_DESTRUCTIVE="false", CONFORMANCE_SEED="", MOCK_PORT=str(port),
                      GITHUB_OUTPUT=str(outputs))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"Conformance run against http://127.0.0.1:{port}" in done.stdout
    cases = list(ET.parse(tmp_path / "conformance-junit.xml").getroot().iter("testcase"))
    assert cases
    assert all(case.get("classname", "").startswith("tokenization.") for case in cases)
    assert '<script type="application/json" id="report-data">' in (tmp_path / "conformance-report.html").read_text()
    assert outputs.read_text().splitlines() == [
        "exit-code=0", "junit-xml=conformance-junit.xml", "report-html=conformance-report.html"]
    # The mock it started is gone with it.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the mock still listens"
    assert "mockserver" in (tmp_path / "mockserver.log").read_text()


def test_findings_at_a_base_url_fail_the_step_with_both_reports(tmp_path: Path) -> None:
    with serve(variants.wrong_content_type(mock_app())) as url:
        done = run_script(tmp_path, CONFORMANCE_BASE_URL=url, CONFORMANCE_API="tokenization",
                          CONFORMANCE_MAX_EXAMPLES="3", CONFORMANCE_JUNIT_XML="out/junit.xml",
                          CONFORMANCE_REPORT_HTML="report.html", MOCK_PORT=str(free_port()))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    failed = [case.get("name") for case in ET.parse(tmp_path / "out" / "junit.xml").getroot().iter("testcase")
              if case.find("failure") is not None]
    assert "content_type_conformance" in failed
    assert (tmp_path / "report.html").stat().st_size > 0
    assert not (tmp_path / "mockserver.log").exists(), "no mock was started"


def test_a_mock_that_cannot_start_is_exit_2_with_its_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_script(tmp_path, MOCK_PORT=str(taken.getsockname()[1]))
    assert done.returncode == 2
    assert "::error::the mock server exited before it answered" in done.stderr
    assert "is already in use" in done.stderr


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def test_the_action_runs_the_script_once_and_passes_every_input_as_environment() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    shell_steps = [step for step in action["runs"]["steps"] if "run" in step]
    assert len(shell_steps) == 1
    step = shell_steps[0]
    assert step["run"] == '"$GITHUB_ACTION_PATH/scripts/conformance-action.sh"'
    passed = {re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", value)[1]  # type: ignore[index]
              for value in step["env"].values() if value.startswith("${{ inputs.")}
    assert passed == set(action["inputs"]) - {"python-version"}
    # Each option the action sets is one `conformance run` reads from that variable.
    run_options = {param.envvar for param in conformance_main.commands["run"].params}  # type: ignore[attr-defined]
    assert {name for name in step["env"] if name.startswith("CONFORMANCE_")} <= run_options


def test_the_ci_example_uses_the_action() -> None:
    example = yaml.safe_load((ROOT / "docs" / "ci-example.yml").read_text())
    steps = example["jobs"]["conformance"]["steps"]
    assert any(step.get("uses") == "./" for step in steps)
    assert not any("conformance run" in step.get("run", "") for step in steps), "the action runs the suite"
