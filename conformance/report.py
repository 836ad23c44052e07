"""Reports of a run: the terminal summary (rich), JUnit XML for CI, and JSON for anything else."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from conformance.curl import curl_with_body_file, needs_body_file
from conformance.results import CheckResult, Operation, RunResult, Status

_STYLES = {Status.PASSED: "green", Status.FAILED: "bold red", Status.SKIPPED: "yellow"}


def _by_operation(result: RunResult) -> Iterator[tuple[Operation, list[CheckResult]]]:
    for operation, items in groupby(result.results, key=lambda r: r.operation):
        yield operation, list(items)


def print_summary(result: RunResult, console: Console) -> None:
    """The counts and the failed checks first, then a table per operation, then each failure in detail."""
    s = result.settings
    generated = "recorded traffic, checked offline"
    if s.seed is not None:
        generated = (f"seed: {s.seed}  max examples: {s.max_examples}  destructive checks: "
                     f"{'on' if s.allow_destructive else 'off'}")
    console.print(
        f"[bold]Conformance run[/] against {escape(s.base_url)}  target: {escape(s.target_source)}  {generated}"
        + ("  documented rules only" if s.documented_only else "")
    )
    console.print(count_line(result))
    failed = result.failed
    for item in failed:
        first = item.failures[0].title if item.failures else "failed"
        console.print(
            f"  [bold red]✗[/] {escape(item.operation.title)} · {escape(item.check)} "
            f"[dim]({item.source.value})[/]: {escape(first)}",
        )
    for operation, items in _by_operation(result):
        table = Table(
            title=f"{operation.title}  ({operation.method} {operation.path})",
            title_justify="left",
            expand=False,
        )
        # Fits 80 columns: names are single long words that rich would cut with an ellipsis, so nothing here
        # wraps but the notes, which go below the table as sentences the console wraps between words.
        table.add_column("check", overflow="fold")
        table.add_column("kind", overflow="fold")
        table.add_column("source", overflow="fold")
        table.add_column("status (requests)", overflow="fold")
        notes = []
        for item in items:
            note = (
                item.reason
                if item.status is Status.SKIPPED
                else (item.failures[0].title if item.failures else "; ".join(item.notes))
            )
            if note:
                notes.append(f"  [dim]{escape(item.check)}:[/] {escape(note)}")
            table.add_row(item.check, item.kind, item.source.value, _status_cell(item))
        console.print(table)
        for line in notes:
            console.print(line, highlight=False)
    if failed:
        console.rule("[bold red]Failures")
    for item in failed:
        for number, finding in enumerate(item.failures, 1):
            console.print(
                f"\n[bold red]✗ {escape(item.operation.title)} · {escape(item.check)}[/] "
                f"({number}/{item.failure_count}): {escape(finding.title)}"
            )
            console.print(f"  [bold]rule:[/]     {item.source.value}: {escape(item.cite)}", soft_wrap=True)
            console.print(f"  [bold]expected:[/] {escape(finding.expected)}", soft_wrap=True)
            console.print(f"  [bold]got:[/]      {escape(finding.actual)}", soft_wrap=True)
            if finding.detail and finding.detail not in finding.actual:
                console.print(escape(_indent(finding.detail)), soft_wrap=True, highlight=False)
            if finding.curl:
                console.print("  [bold]reproduce:[/]")
                # soft_wrap: the terminal may fold long lines, but no newline is inserted into the command.
                console.print(escape(finding.curl), soft_wrap=True, highlight=False, markup=True)
    console.print("\n" + count_line(result))


def _status_cell(item: CheckResult) -> str:
    """The status and how many requests the check judged: `passed 33`, `failed 2 (31 ok)`, `skipped`."""
    styled = f"[{_STYLES[item.status]}]{item.status.value}[/]"
    if item.status is Status.PASSED:
        return f"{styled} {item.passed}"
    if item.status is Status.FAILED:
        return f"{styled} {item.failure_count} ({item.passed} ok)"
    return styled


def count_line(result: RunResult) -> str:
    counts = result.counts()
    causes = skip_causes(result).most_common()
    skipped = f"{counts[Status.SKIPPED]} skipped"
    if causes:
        (main, count), others = causes[0], counts[Status.SKIPPED] - causes[0][1]
        skipped += f" ({count} {main}" + (f", {others} for other reasons)" if others else ")")
    return f"{counts[Status.PASSED]} passed, {counts[Status.FAILED]} failed, {skipped} in {result.duration:.1f}s"


_NEEDS_FLAG = re.compile(r"\bneeds? (--[a-z][a-z-]*)")
_LEFT_OUT_BY = re.compile(r"\bleft out by (--[a-z][a-z-]*)")


def skip_causes(result: RunResult) -> Counter[str]:
    """Why checks were skipped, with those a flag would run counted under that flag ("need --allow-destructive").

    Skip reasons name the operation's own reason first; what a user can act on is the flag they end with.
    """
    causes: Counter[str] = Counter()
    for item in result.results:
        if item.status is not Status.SKIPPED:
            continue
        reason = item.reason
        if (needs := _NEEDS_FLAG.search(reason)) is not None:
            causes[f"need {needs.group(1)}"] += 1
        elif (left_out := _LEFT_OUT_BY.search(reason)) is not None:
            causes[f"left out by {left_out.group(1)}"] += 1
        else:
            causes[reason] += 1
    return causes


def write_long_bodies(result: RunResult, directory: Path) -> int:
    """Write the body of every reproducer over 2 KB, or holding bytes a command line cannot, to `directory`.

    Its command becomes `--data-binary @file`.

    Returns how many files were written (the directory is created only when one is).
    """
    written = 0
    for item in result.results:
        for index, finding in enumerate(item.failures):
            if finding.request is None or not needs_body_file(finding.curl, finding.request.body):
                continue
            directory.mkdir(parents=True, exist_ok=True)
            operation = item.operation
            path = directory / f"{operation.api}.{operation.operation_id}.{item.check}.{index + 1}.body"
            path.write_bytes(finding.request.body)
            item.failures[index] = dataclasses.replace(finding, curl=curl_with_body_file(finding.request, path))
            written += 1
    return written


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def to_json(result: RunResult) -> dict[str, Any]:
    counts = result.counts()
    return {
        "settings": dataclasses.asdict(result.settings),
        "duration_seconds": round(result.duration, 3),
        "summary": {status.value: counts[status] for status in Status},
        "exit_code": result.exit_code,
        "results": [
            {
                "api": item.operation.api,
                "operation_id": item.operation.operation_id,
                "method": item.operation.method,
                "path": item.operation.path,
                "check": item.check,
                "kind": item.kind,
                "description": item.description,
                "source": item.source.value,
                "cite": item.cite,
                "status": item.status.value,
                "passed": item.passed,
                "duration_seconds": round(item.duration, 3),
                "failure_count": item.failure_count,
                "skip_reason": item.reason if item.status is Status.SKIPPED else None,
                "notes": item.notes,
                "failures": [
                    {key: value for key, value in dataclasses.asdict(finding).items() if key != "request"}
                    for finding in item.failures
                ],
            }
            for item in result.results
        ],
    }


def write_json(result: RunResult, path: Path) -> None:
    path.write_text(json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def to_junit(result: RunResult) -> ET.ElementTree[ET.Element]:
    """One <testsuite> per API, one <testcase> per operation and check (classname `api.operationId`)."""
    root = ET.Element("testsuites", name="conformance", time=f"{result.duration:.3f}")
    for api in result.settings.apis:
        items = [item for item in result.results if item.operation.api == api]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"conformance.{api}",
            tests=str(len(items)),
            failures=str(sum(i.status is Status.FAILED for i in items)),
            errors="0",
            skipped=str(sum(i.status is Status.SKIPPED for i in items)),
            time=f"{sum(i.duration for i in items):.3f}",
        )
        for item in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{api}.{item.operation.operation_id}",
                name=item.check,
                time=f"{item.duration:.3f}",
            )
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="source", value=item.source.value)
            ET.SubElement(properties, "property", name="cite", value=_xml_safe(item.cite))
            if item.status is Status.FAILED:
                first = item.failures[0] if item.failures else None
                failure = ET.SubElement(
                    case, "failure", message=_xml_safe(first.title if first else "failed"), type=item.kind
                )
                failure.text = _xml_safe(
                    f"rule: {item.source.value}: {item.cite}\n\n"
                    + "\n\n".join(
                        f"{f.title}\nexpected: {f.expected}\ngot: {f.actual}\nreproduce:\n{f.curl}"
                        for f in item.failures
                    )
                )
            elif item.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=_xml_safe(item.reason))
            notes = "".join(f"\n{note}" for note in item.notes)
            ET.SubElement(case, "system-out").text = _xml_safe(f"{item.description} ({item.passed} passed){notes}")
    ET.indent(root)
    return ET.ElementTree(root)


_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters (curl commands of binary bodies do): escape them."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_junit(result: RunResult, path: Path) -> None:
    to_junit(result).write(path, encoding="utf-8", xml_declaration=True)
