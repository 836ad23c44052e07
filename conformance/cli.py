"""`conformance run`: hold a server to the three specs and report what does not conform.

Exit codes: 0 nothing failed, 1 at least one check failed, 2 the suite could not run (usage, target file,
unreachable server). Every option of `run` can also come from a `CONFORMANCE_*` environment variable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from conformance import html_report, report
from conformance._specs import ApiName
from conformance.apis import API_NAMES, suites
from conformance.errors import ConformanceError
from conformance.progress import BarProgress, PlainProgress
from conformance.results import RunResult
from conformance.runner import DEFAULT_MAX_EXAMPLES, DEFAULT_SEED, RunConfig, run
from conformance.target import load_target

EXIT_OK, EXIT_FAILURES, EXIT_UNUSABLE = 0, 1, 2
EXIT_CODES_HELP = """\b
Exit codes:
  0  no check failed
  1  at least one check failed
  2  the suite could not run (bad usage, unusable target file, unreachable server)"""
DISTRIBUTION = "token-metadata-mock"
F = TypeVar("F", bound=Callable[..., Any])


def _named_apis() -> str:
    """The registered APIs as a sentence names them: "A, B and C"."""
    titles = [suite.title for suite in suites()]
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"


def _env(name: str) -> dict[str, Any]:
    """An option's environment variable, listed in `--help`: CI jobs configure a step without rewriting it."""
    return {"envvar": f"CONFORMANCE_{name}", "show_envvar": True}


def _report_options(*, what: str, env: bool) -> Callable[[F], F]:
    """--junit-xml, --report-json and --report-html, for a command whose results are one per operation and `what`
    (from `CONFORMANCE_*` variables too when `env`)."""
    path = click.Path(dir_okay=False, writable=True, path_type=Path)
    options = [
        click.option("--junit-xml", type=path, **(_env("JUNIT_XML") if env else {}),
                     help=f"Write a JUnit XML report (one testcase per operation and {what}, with its time)."),
        click.option("--report-json", type=path, help="Write a JSON report.", **(_env("REPORT_JSON") if env else {})),
        click.option("--report-html", type=path, **(_env("REPORT_HTML") if env else {}),
                     help=f"Write one self-contained HTML report: operations x {what}s, each failure with its "
                          "reproducer."),
    ]

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@click.group(
    help=f"Conformance suite for the {_named_apis()} token-metadata APIs.",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(package_name=DISTRIBUTION, prog_name="conformance")
def main() -> None:
    """The `conformance` command group (its help, above, names the registered APIs)."""


@main.command("run", epilog=EXIT_CODES_HELP)
@click.option(
    "--api",
    "api",
    type=click.Choice([*API_NAMES, "all"]),
    required=True,
    help="Which API to test, or all three.",
    **_env("API"),
)
@click.option(
    "--base-url",
    required=True,
    help="Where the server under test answers, e.g. http://127.0.0.1:8080.",
    **_env("BASE_URL"),
)
@click.option(
    "--target",
    "target_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file with credentials and known resources (default: the mock server's fixtures).",
    **_env("TARGET"),
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_EXAMPLES,
    show_default=True,
    help="Generated requests per operation and phase; behavioural checks get a fifth of it.",
    **_env("MAX_EXAMPLES"),
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed for every random choice: the same seed sends the same test cases.",
    **_env("SEED"),
)
@_report_options(what="check", env=True)
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Also run checks that change stored state or spend rate quota (valid writes, quota exhaustion).",
    **_env("ALLOW_DESTRUCTIVE"),
)
@click.option(
    "--reproducers-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the body of a reproducer over 2 KB is written (default: `reproducers/` beside --report-json, "
    "--junit-xml or --report-html, else ./conformance-reproducers).",
    **_env("REPRODUCERS_DIR"),
)
@click.option(
    "--documented-only",
    is_flag=True,
    help="Run only the rules of the vendors' own documents (their pages and published OpenAPI); "
    "rules this project decided report skipped.",
    **_env("DOCUMENTED_ONLY"),
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="Operations tested in parallel by the schema checks.",
    **_env("WORKERS"),
)
def run_command(
    api: str,
    base_url: str,
    target_file: Path | None,
    max_examples: int,
    seed: int,
    junit_xml: Path | None,
    report_json: Path | None,
    report_html: Path | None,
    allow_destructive: bool,
    reproducers_dir: Path | None,
    documented_only: bool,
    workers: int,
) -> None:
    """Test a server against the specs and report every check per operation.

    On a terminal a progress bar per API shows checks done, failed and the time left; elsewhere (CI logs,
    pipes) each finished check is one line on stderr: `api operation check status time`.
    """
    stdout, stderr = _consoles()
    apis: tuple[ApiName, ...] = (
        API_NAMES if api == "all" else tuple(name for name in API_NAMES if name == api)
    )
    try:
        config = RunConfig(
            base_url=base_url.rstrip("/"),
            target=load_target(target_file),
            apis=apis,
            max_examples=max_examples,
            seed=seed,
            workers=workers,
            allow_destructive=allow_destructive,
            documented_only=documented_only,
        )
        if stderr.is_terminal:
            with BarProgress(stderr) as bars:
                result = run(config, progress=bars)
        else:
            result = run(config, progress=PlainProgress(sys.stderr))
    except ConformanceError as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(EXIT_UNUSABLE)
    except Exception:
        # A crash of the suite itself says nothing about the server: never let it pass for a finding (exit 1).
        stderr.print_exception()
        stderr.print("[bold red]error:[/] the conformance suite crashed; please report the traceback above")
        sys.exit(EXIT_UNUSABLE)
    _report(result, stdout, stderr, junit_xml=junit_xml, report_json=report_json, report_html=report_html,
            reproducers_dir=reproducers_dir)


@main.command("validate-traffic", epilog=EXIT_CODES_HELP)
@click.argument("har_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--api",
    "api",
    type=click.Choice([*API_NAMES, "all"]),
    default="all",
    show_default=True,
    help="Which API's traffic to check; the rest of the file is skipped.",
)
@_report_options(what="rule", env=False)
def validate_traffic_command(har_file: Path, api: str, junit_xml: Path | None, report_json: Path | None,
                             report_html: Path | None) -> None:
    """Check recorded traffic (a HAR file, e.g. from `mockserver proxy --record`) against the specs.

    Each request and response is held to the same single-exchange rules as the validating proxy's. Exit codes as
    for `run`: 0 nothing broken, 1 at least one violation, 2 the file cannot be read.
    """
    from conformance.traffic.report import validate_har

    stdout, stderr = _consoles()
    apis = API_NAMES if api == "all" else tuple(name for name in API_NAMES if name == api)
    try:
        result = validate_har(har_file, apis=apis)
    except ConformanceError as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(EXIT_UNUSABLE)
    _report(result, stdout, stderr, junit_xml=junit_xml, report_json=report_json, report_html=report_html)


def _consoles() -> tuple[Console, Console]:
    """The console for the tables, and the one for errors and progress."""
    # Logs of CI jobs are no terminal: rich would fold the tables to 80 columns there unless COLUMNS says so.
    stdout = Console() if sys.stdout.isatty() or "COLUMNS" in os.environ else Console(width=160)
    return stdout, Console(stderr=True)


def _report(result: RunResult, stdout: Console, stderr: Console, *, junit_xml: Path | None,
            report_json: Path | None, report_html: Path | None, reproducers_dir: Path | None = None) -> NoReturn:
    """Write long reproducer bodies, print the summary, write the reports asked for and exit with the run's code."""
    beside = report_json or junit_xml or report_html
    if reproducers_dir is None:
        reproducers_dir = beside.parent / "reproducers" if beside is not None else Path("conformance-reproducers")
    try:
        report.write_long_bodies(result, reproducers_dir)
    except OSError as error:
        stderr.print(f"[bold red]error:[/] cannot write a reproducer's body: {error}", highlight=False)
        sys.exit(EXIT_UNUSABLE)
    report.print_summary(result, stdout)
    try:
        for path in (junit_xml, report_json, report_html):
            if path is not None:  # CI jobs name a reports/ folder that nothing created yet
                path.parent.mkdir(parents=True, exist_ok=True)
        if junit_xml is not None:
            report.write_junit(result, junit_xml)
        if report_json is not None:
            report.write_json(result, report_json)
        if report_html is not None:
            html_report.write_html(result, report_html)
    except OSError as error:
        stderr.print(f"[bold red]error:[/] cannot write the report: {error}", highlight=False)
        sys.exit(EXIT_UNUSABLE)
    sys.exit(EXIT_FAILURES if result.exit_code else EXIT_OK)
