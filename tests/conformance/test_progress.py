"""What `conformance run` shows while it runs and at the end: plain lines in CI, bars on a terminal, 80 columns."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from conformance.cli import main
from conformance.progress import BarProgress
from conformance.results import CheckResult, Finding, RuleSource
from conformance.runner import planned_checks
from conformance.schema_checks import operations
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve

LINE = re.compile(r"(?P<api>\w+) (?P<operation>\w+) (?P<check>\w+) (?P<status>passed|failed|skipped) \d+\.\d\ds")


def test_outside_a_terminal_each_check_is_one_line_as_it_ends(tmp_path: Path) -> None:
    stdout_file = tmp_path / "stdout.txt"
    with serve(mock_app()) as url, stdout_file.open("w") as stdout_sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance", "run", "--api", "tokenization", "--base-url", url,
             "--max-examples", "5"],
            stdout=stdout_sink, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        try:
            assert process.stderr.readline() == "tokenization: 37 checks\n"
            first = process.stderr.readline()
            # Flushed as it ends: the first check's line arrives while the run goes on.
            assert process.poll() is None, "the first line came only once the run was over"
            rest = process.stderr.read()
            process.wait(timeout=300)
        finally:
            process.kill()
            process.wait()
    stdout = stdout_file.read_text()
    lines = [first, *rest.splitlines()]
    matched = [LINE.fullmatch(line.strip()) for line in lines]
    assert all(matched), lines
    reported = {(m["operation"], m["check"]) for m in matched if m is not None}
    assert reported == {(op.operation_id, check) for op, check in planned_checks(("tokenization",))}
    assert {m["status"] for m in matched if m is not None} == {"passed", "skipped"}
    assert process.returncode == 0, stdout[-2000:]


def _result(operation_index: int, check: str, *, failed: bool = False) -> CheckResult:
    operation = operations("rair")[operation_index]
    result = CheckResult(operation=operation, check=check, kind="schema", description="", source=RuleSource.PROJECT,
                         cite="", passed=3)
    if failed:
        result.add_failure(Finding(title="wrong", expected="right", actual="wrong", curl=""))
    return result


def test_on_a_terminal_a_bar_per_api_counts_done_failed_and_time_left() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with BarProgress(console) as bars:
        bars.planned("rair", 4)
        bars.planned("immutable", 50)
        bars.finished(_result(0, "not_a_server_error"))
        bars.finished(_result(0, "ignored_auth", failed=True))
        bars.finished(_result(1, "ignored_auth", failed=True))
    lines = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line) for line in buffer.getvalue().splitlines()]
    rair = [line for line in lines if line.startswith("rair ")][-1]  # the last frame: one line per bar
    immutable = [line for line in lines if line.startswith("immutable ")][-1]
    assert re.search(r"━.* 3/4 +2 failed \d+:\d\d:\d\d eta \d+:\d\d:\d\d$", rair), rair
    assert re.search(r"━.* 0/50 +0 failed", immutable), immutable


def test_tables_fit_80_columns_without_cutting_names_and_the_summary_says_why_checks_skipped(
        tmp_path: Path) -> None:
    with serve(variants.wrong_content_type(mock_app())) as url:
        result = CliRunner().invoke(main, ["run", "--api", "tokenization", "--base-url", url, "--max-examples", "5"],
                                    env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output
    # Below the tables each failure's reproducer stays one line, however long, so that it can be pasted.
    tables = result.stdout[: result.stdout.index(" Failures ")]
    widest = max(tables.splitlines(), key=len)
    assert len(widest) <= 80, widest
    assert "…" not in result.stdout
    for _, check in planned_checks(("tokenization",)):
        assert re.search(rf"│ {check} +│", result.stdout), check
    # Eight checks change state or spend quota; the summary line says so at the top and the bottom.
    assert result.stdout.count("skipped (8 need --allow-destructive) in ") == 2, result.stdout[:600]
