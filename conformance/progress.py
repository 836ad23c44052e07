"""What a run shows while it goes: a rich progress bar per API on a terminal, one plain line per check elsewhere.

A CI log is no terminal: there a spinner redraws nothing anyone sees, so each finished check is one line
(`api operation check status time`), flushed at once, and a job that hangs shows where.
"""

from __future__ import annotations

from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from conformance._specs import ApiName
from conformance.results import CheckResult, Status


class RunProgress(Protocol):
    """Told what a run will do, then of each check as it ends."""

    def planned(self, api: ApiName, checks: int) -> None:
        """`api` will report `checks` checks (called for every API before the first check runs)."""

    def finished(self, result: CheckResult) -> None:
        """One check of one operation ended: its status, counts and duration are final."""


class PlainProgress:
    """One line per finished check, flushed, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def planned(self, api: ApiName, checks: int) -> None:
        self._stream.write(f"{api}: {checks} checks\n")
        self._stream.flush()

    def finished(self, result: CheckResult) -> None:
        operation = result.operation
        self._stream.write(
            f"{operation.api} {operation.operation_id} {result.check} {result.status.value} {result.duration:.2f}s\n"
        )
        self._stream.flush()


class BarProgress:
    """A rich progress bar per API: checks done of the total, how many failed, and the time left."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<13}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[ApiName, TaskID] = {}
        self._failed: dict[ApiName, int] = {}

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def planned(self, api: ApiName, checks: int) -> None:
        # Added stopped: a bar's clock (elapsed, ETA) starts with its API's first check, not with the run.
        self._tasks[api] = self._progress.add_task(api, total=checks, failed=0, start=False)
        self._failed[api] = 0

    def finished(self, result: CheckResult) -> None:
        api = result.operation.api
        task = self._tasks[api]
        self._progress.start_task(task)  # no-op once started
        if result.status is Status.FAILED:
            self._failed[api] += 1
        self._progress.update(task, advance=1, failed=self._failed[api])
