"""What a run found: one `CheckResult` per operation and check, and the `RunResult` that holds them all."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from conformance._specs import ApiName
from conformance.exchange import SentRequest

# How many distinct failures of one check on one operation are kept; more add nothing a reader can use.
MAX_FINDINGS = 5


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class RuleSource(StrEnum):
    """Whose words a rule rests on, so a vendor can tell its own contract from this project's reading of it."""

    # The vendor's documentation page for the operation.
    VENDOR_PAGE = "vendor-page"
    # The vendor's published OpenAPI document (or its published SDK's generated spec).
    VENDOR_OPENAPI = "vendor-openapi"
    # Decided by this project where the vendor is silent, and written into `specs/` (as schema or description).
    PROJECT = "project"

    @property
    def documented(self) -> bool:
        """True for rules taken from the vendor's own documents."""
        return self is not RuleSource.PROJECT


@dataclasses.dataclass(frozen=True, kw_only=True)
class Finding:
    """One failure: what the spec expects, what came back, and a shell snippet that sends the same request."""

    title: str
    expected: str
    actual: str
    curl: str
    detail: str = ""
    # Kept only when `curl` is too long to paste: reports then write the body to a file beside them.
    request: SentRequest | None = dataclasses.field(default=None, repr=False, compare=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Operation:
    """An operation of a spec, named the way reports show it."""

    api: ApiName
    operation_id: str
    method: str
    path: str

    @property
    def label(self) -> str:
        """Schemathesis' name for it, e.g. `GET /v2/admin/token/{token_id}`."""
        return f"{self.method} {self.path}"

    @property
    def title(self) -> str:
        return f"{self.api} {self.operation_id}"


@dataclasses.dataclass(kw_only=True)
class CheckResult:
    """The outcome of one check on one operation, over every request that exercised it."""

    operation: Operation
    check: str
    kind: str  # "schema" (Schemathesis) or "behaviour" (the suite's own Hypothesis checks)
    description: str
    # Whose words the rule rests on, and the passage that states it.
    source: RuleSource
    cite: str
    passed: int = 0
    failures: list[Finding] = dataclasses.field(default_factory=list)
    failure_count: int = 0
    skip_reason: str | None = None
    # What the check could not verify, though it ran (e.g. a URL outside --base-url that did not answer).
    notes: list[str] = dataclasses.field(default_factory=list)
    # Seconds spent on it; the schema checks of an operation judge the same requests and share their time.
    duration: float = 0.0

    @property
    def status(self) -> Status:
        if self.failure_count:
            return Status.FAILED
        if self.passed:
            return Status.PASSED
        return Status.SKIPPED

    def add_failure(self, finding: Finding) -> None:
        self.failure_count += 1
        known = {(f.title, f.actual) for f in self.failures}
        if len(self.failures) < MAX_FINDINGS and (finding.title, finding.actual) not in known:
            self.failures.append(finding)

    @property
    def reason(self) -> str:
        """Why a skipped check did not run, for reports."""
        return self.skip_reason or "no generated request exercised this check"

    def __repr__(self) -> str:
        return (
            f"CheckResult({self.operation.title!r}, {self.check!r}, status={self.status.value}, "
            f"passed={self.passed}, failures={self.failure_count})"
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How a run was asked for; echoed in every report so a result can be reproduced."""

    base_url: str
    apis: tuple[ApiName, ...]
    target_source: str
    # Both None when no test cases were generated (recorded traffic, checked offline).
    max_examples: int | None
    seed: int | None
    workers: int
    allow_destructive: bool
    documented_only: bool = False


@dataclasses.dataclass(kw_only=True)
class RunResult:
    """Everything a run found, in a stable order: by API, operation, then check."""

    settings: RunSettings
    results: list[CheckResult]
    duration: float = 0.0

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.FAILED]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def counts(self) -> dict[Status, int]:
        totals = dict.fromkeys(Status, 0)
        for result in self.results:
            totals[result.status] += 1
        return totals

    def __repr__(self) -> str:
        counts = ", ".join(f"{status.value}={n}" for status, n in self.counts().items())
        return f"RunResult(base_url={self.settings.base_url!r}, {counts})"
