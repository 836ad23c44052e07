"""pytest plugin: one test per operation and check, all answered by a single conformance run.

Enable it with the `pytest11` entry point (installed with the package) or `-p conformance.plugin`, then:

    pytest --pyargs conformance --base-url http://127.0.0.1:8080 [--conformance-api NAME] [--junitxml out.xml]

Without a base URL the plugin stays out of the way: it adds its options and nothing else, so it is safe to
have installed next to any other test suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance import report
from conformance._specs import ApiName
from conformance.apis import API_NAMES
from conformance.errors import ConformanceError
from conformance.results import CheckResult, RunResult, Status
from conformance.runner import DEFAULT_MAX_EXAMPLES, DEFAULT_SEED, RunConfig, planned_checks, run
from conformance.target import load_target

_RESULT_KEY = pytest.StashKey[RunResult | str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance suite (conformance.plugin)")
    try:
        group.addoption(
            "--base-url",
            "--conformance-base-url",
            dest="conformance_base_url",
            default=None,
            help="Base URL of the server under test; enables the conformance tests.",
        )
    except ValueError:
        # Another plugin (pytest-base-url) owns --base-url; its value is used when ours is not given.
        group.addoption(
            "--conformance-base-url",
            dest="conformance_base_url",
            default=None,
            help="Base URL of the server under test; enables the conformance tests.",
        )
    group.addoption("--conformance-api", choices=[*API_NAMES, "all"], default="all", help="API to test.")
    group.addoption(
        "--conformance-target", default=None, help="Target YAML file (default: the mock's fixtures)."
    )
    group.addoption(
        "--conformance-max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help="Generated requests per operation and phase.",
    )
    group.addoption("--conformance-seed", type=int, default=DEFAULT_SEED, help="Seed of every random choice.")
    group.addoption("--conformance-workers", type=int, default=1, help="Operations tested in parallel.")
    group.addoption(
        "--conformance-allow-destructive",
        action="store_true",
        help="Also run checks that change state or spend rate quota.",
    )
    group.addoption(
        "--conformance-reproducers-dir",
        default="conformance-reproducers",
        help="Where the body of a reproducer over 2 KB is written.",
    )
    group.addoption(
        "--conformance-documented-only",
        action="store_true",
        help="Run only the rules of the vendors' own documents; this project's rules report skipped.",
    )


def _apis(config: pytest.Config) -> tuple[ApiName, ...]:
    chosen = config.getoption("conformance_api")
    return API_NAMES if chosen == "all" else tuple(name for name in API_NAMES if name == chosen)


def _base_url(config: pytest.Config) -> str | None:
    value = config.getoption("conformance_base_url") or getattr(config.option, "base_url", None)
    return str(value) if value else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_check" not in metafunc.fixturenames:
        return
    planned = planned_checks(_apis(metafunc.config))
    metafunc.parametrize(
        "conformance_check",
        planned,
        ids=[f"{operation.api}.{operation.operation_id}.{check}" for operation, check in planned],
    )


@pytest.fixture(scope="session")
def conformance_result(request: pytest.FixtureRequest) -> RunResult:
    """The run every conformance test reads its outcome from (run once, on first use)."""
    config = request.config
    stash = config.stash
    if _RESULT_KEY not in stash:
        base_url = _base_url(config)
        if base_url is None:
            stash[_RESULT_KEY] = "no --base-url given: the conformance tests need a server to test"
        else:
            try:
                stash[_RESULT_KEY] = run(
                    RunConfig(
                        base_url=base_url.rstrip("/"),
                        target=load_target(config.getoption("conformance_target")),
                        apis=_apis(config),
                        max_examples=config.getoption("conformance_max_examples"),
                        seed=config.getoption("conformance_seed"),
                        workers=config.getoption("conformance_workers"),
                        allow_destructive=config.getoption("conformance_allow_destructive"),
                        documented_only=config.getoption("conformance_documented_only"),
                    )
                )
            except ConformanceError as error:
                stash[_RESULT_KEY] = f"the conformance suite cannot run: {error}"
            else:
                result = stash[_RESULT_KEY]
                if isinstance(result, RunResult):
                    report.write_long_bodies(result, Path(config.getoption("conformance_reproducers_dir")))
    outcome = stash[_RESULT_KEY]
    if isinstance(outcome, str):
        if outcome.startswith("no --base-url"):
            pytest.skip(outcome)
        pytest.fail(outcome, pytrace=False)
    return outcome


def assert_conforms(result: RunResult, conformance_check: tuple[Any, str]) -> None:
    """Pass, fail or skip the way the run's result for one operation and check says."""
    operation, check = conformance_check
    found: CheckResult | None = next(
        (r for r in result.results if r.operation == operation and r.check == check), None
    )
    if found is None:
        pytest.fail(f"the run has no result for {operation.title} {check}", pytrace=False)
    if found.status is Status.SKIPPED:
        pytest.skip(found.reason)
    if found.status is Status.FAILED:
        lines = [f"{found.description}", f"rule: {found.source.value}: {found.cite}", ""]
        for finding in found.failures:
            lines += [
                finding.title,
                f"expected: {finding.expected}",
                f"got: {finding.actual}",
                "reproduce:",
                finding.curl,
                "",
            ]
        pytest.fail("\n".join(lines), pytrace=False)
