"""One conformance run: check the server answers, then each API's schema checks and behavioural checks."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import httpx

from conformance._specs import ApiName
from conformance.apis import checks_for
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context
from conformance.curl import LONG_REPRODUCER
from conformance.errors import ServerUnreachableError
from conformance.exchange import Http
from conformance.progress import RunProgress
from conformance.results import CheckResult, Finding, Operation, RunResult, RunSettings
from conformance.schema_checks import (
    DOCUMENTED_ONLY_SKIP,
    SCHEMA_CHECKS,
    SchemaRunConfig,
    operations,
    run_schema_checks,
)
from conformance.target_base import Target

# Schemathesis' own default. Measured on a shared 2-core machine against the mock: all three APIs take about 14 s
# (19 s with --allow-destructive; conformance/README.md has the commands), well inside the two minutes a CI job
# should spend.
DEFAULT_MAX_EXAMPLES = 100
DEFAULT_SEED = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a run needs; the CLI and the pytest plugin both build one."""

    base_url: str
    target: Target
    apis: tuple[ApiName, ...]
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = DEFAULT_SEED
    workers: int = 1
    allow_destructive: bool = False
    # Run only the rules of the vendors' own documents (pages, published OpenAPI); the rest report skipped.
    documented_only: bool = False
    extra_checks: tuple[str, ...] = ()

    @property
    def behaviour_examples(self) -> int:
        """Each behavioural example sends several requests, so they get a fraction of the schema budget."""
        return max(2, min(20, self.max_examples // 5))

    def settings(self) -> RunSettings:
        return RunSettings(
            base_url=self.base_url,
            apis=self.apis,
            target_source=self.target.source,
            max_examples=self.max_examples,
            seed=self.seed,
            workers=self.workers,
            allow_destructive=self.allow_destructive,
            documented_only=self.documented_only,
        )


def planned_checks(
    apis: tuple[ApiName, ...], extra_checks: tuple[str, ...] = ()
) -> list[tuple[Operation, str]]:
    """Every (operation, check) a run reports on, known before it starts: for test ids and JUnit listings."""
    planned = []
    for api in apis:
        for operation in operations(api):
            planned += [(operation, check) for check in (*SCHEMA_CHECKS, *extra_checks)]
            planned += [
                (operation, c.name)
                for c in checks_for(api)
                if c.operation_id == operation.operation_id
            ]
    return planned


def check_reachable(base_url: str, timeout: float = 5.0) -> None:
    """Fail fast with one clear message when nothing answers at `base_url` (any HTTP answer will do)."""
    if not base_url.startswith(("http://", "https://")):
        raise ServerUnreachableError(f"--base-url must be an http:// or https:// URL; got {base_url!r}")
    try:
        httpx.get(base_url.rstrip("/") + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ServerUnreachableError(f"cannot reach the server at {base_url}: {reason}") from exc


def run(config: RunConfig, progress: RunProgress | None = None) -> RunResult:
    """Run the suite. Raises `ConformanceError` only when it cannot run; findings go into the result."""
    check_reachable(config.base_url)
    started = time.monotonic()
    results: list[CheckResult] = []
    if progress is not None:
        for api in config.apis:
            progress.planned(api, len(planned_checks((api,), config.extra_checks)))
    finished = progress.finished if progress is not None else None
    for api in config.apis:
        schema_config = SchemaRunConfig(
            base_url=config.base_url,
            target=config.target,
            seed=config.seed,
            max_examples=config.max_examples,
            workers=config.workers,
            allow_destructive=config.allow_destructive,
            documented_only=config.documented_only,
            extra_checks=config.extra_checks,
        )
        found = run_schema_checks(api, schema_config, finished) + run_behaviour_checks(api, config, finished)
        # Reports group by operation: keep each operation's checks together, in the spec's order.
        order = {operation.operation_id: index for index, operation in enumerate(operations(api))}
        results += sorted(found, key=lambda r: order[r.operation.operation_id])
    return RunResult(settings=config.settings(), results=results, duration=time.monotonic() - started)


def run_behaviour_checks(
    api: ApiName, config: RunConfig, finished: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    by_id = {operation.operation_id: operation for operation in operations(api)}
    http = Http(config.base_url, timeout=config.target.request_timeout)
    results = []
    try:
        for check in checks_for(api):
            started = time.monotonic()
            result = CheckResult(
                operation=by_id[check.operation_id],
                check=check.name,
                kind="behaviour",
                description=check.description,
                source=check.source,
                cite=check.cite,
            )
            if config.documented_only and not check.source.documented:
                result.skip_reason = DOCUMENTED_ONLY_SKIP
            elif check.destructive and not config.allow_destructive:
                result.skip_reason = "changes state or spends quota: needs --allow-destructive"
            else:
                _run_one(
                    check,
                    Context(
                        target=config.target, http=http, seed=config.seed, examples=config.behaviour_examples
                    ),
                    result,
                )
            result.duration = time.monotonic() - started
            results.append(result)
            if finished is not None:
                finished(result)
    finally:
        http.close()
    return results


def _run_one(check: BehaviourCheck, ctx: Context, result: CheckResult) -> None:
    """Run one check; whatever it raises becomes a finding of that check, never the end of the run."""
    try:
        check.run(ctx)
    except CheckFailed as failure:
        exchange = failure.exchange
        curl = ctx.curl(exchange) if exchange is not None else ""
        result.add_failure(
            Finding(
                title=failure.title or check.description,
                expected=failure.expected,
                actual=failure.actual,
                curl=curl,
                request=exchange.sent() if exchange is not None and len(curl) > LONG_REPRODUCER else None,
            )
        )
    except CheckSkipped as skipped:
        result.skip_reason = str(skipped)
        result.notes += ctx.notes
        return
    except Exception as error:  # a reset connection, a timeout, a Hypothesis wrapper around either, a bug
        result.add_failure(
            Finding(
                title=f"{check.description} (the check could not finish)",
                expected="answers the check can read, within the request timeout",
                actual=describe_error(error),
                curl="",
            )
        )
    result.notes += ctx.notes
    result.passed = max(result.passed, ctx.passed)


def describe_error(error: BaseException) -> str:
    """What went wrong, in one line: each distinct error of a group, with the URL of a failed request."""
    if isinstance(error, BaseExceptionGroup):
        parts = dict.fromkeys(describe_error(inner) for inner in error.exceptions)
        return "; ".join(parts) or type(error).__name__
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, httpx.RequestError):
        try:
            request = error.request
        except RuntimeError:  # httpx raises when the error carries no request
            return text
        return f"{text} ({request.method} {request.url})"
    return text
