"""Load benchmark of the mock server (and optionally Stoplight Prism) with autocannon.

Starts `mockserver serve` on a free loopback port (one worker, request validation on, as by default), drives
each operation of a realistic mix with autocannon for a fixed time, and prints requests/s, p50 and p99
latency, non-2xx responses, errors and the server's peak RSS per operation. `bench/run --help` lists the
options; bench/README.md says how to read the numbers.

Everything stays on 127.0.0.1 and every phase is bounded in time. Tools are installed on first use into
bench/.tools/ (npm: autocannon, Prism; PyPI: py-spy for `--profile`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
TOOLS = BENCH_DIR / ".tools"
RESULTS = BENCH_DIR / "results"
NODE_MODULES = TOOLS / "node_modules"
AUTOCANNON_PACKAGE = "autocannon@9"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PY_SPY_PACKAGE = "py-spy>=0.4,<0.5"

HOST = "127.0.0.1"
CONNECTIONS = 32
DURATION = 10.0
QUICK_DURATION = 3.0
WARMUP = 1.0

# The built-in fixtures' credentials and records (mockserver/data/fixtures.yaml).
IMMUTABLE_KEY = "sk_imapik-test-alpha-refresh"
CHAIN = "imtbl-zkevm-testnet"
COLLECTION = "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
RAIR_TOKEN = "rair-owner-token"
RAIR_PATH = "/api/nft/network/0x89/0x571acc173f57c095f1f63b28f823f0f33128a6c4/0/token/1"
TOKENIZATION_BEARER = "tkn-admin-token"
TOKENIZATION_PATH = "/v2/admin/token/67d8774e903bfcbe7eb5d93e"
COLLECTION_PATH = f"/v1/chains/{CHAIN}/collections/{COLLECTION}"
# Without this every refresh past the default 1000 per hour is a 429.
MOCK_RATE_LIMIT = 100_000_000
BOUNDARY = "----mockserver-bench-7d1e4f"

# The operation the target is about, and the target itself.
KEY_OPERATION = "refresh-1"
TARGET_RATIO = 2.0
TARGET_P99_MS = 20.0
PRISM = "prism"
PRISM_VALIDATING = "prism (validating)"
# The stack's own limit: Starlette on uvicorn parsing the JSON body and answering 202 (bench/baseline.py).
BASELINE = "bare Starlette"
BASELINE_OPERATIONS = ("refresh-1", "refresh-250")
# What the mock should reach of the baseline, per operation (issue 14).
BASELINE_TARGETS = {"refresh-1": 0.5, "refresh-250": 0.25}
# Operations of one item, held to the p99 target.
SINGLE_ITEM_OPERATIONS = ("refresh-1", "get-nft", "rair-update", "tkn-update")
SCALE_OUT = "mock, 2 workers + Redis"
# Cores kept busy by other processes during a run above which its numbers are flagged as noisy.
NOISY_OTHER_CPU = 0.25


# Request bodies ---------------------------------------------------------------------------------------------


def tiny_png() -> bytes:
    """A valid 1x1 RGBA PNG (70 bytes), so content sniffing sees a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x99\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def refresh_item(token_id: int) -> dict[str, Any]:
    """One `nft_metadata` item as a game studio would send it: every field present, a couple of traits."""
    return {
        "token_id": str(token_id),
        "name": f"Sword #{token_id}",
        "description": "A well-balanced blade, re-forged at the anvil.",
        "image": f"https://assets.example.com/swords/{token_id}.png",
        "external_url": f"https://game.example.com/items/{token_id}",
        "animation_url": None,
        "youtube_url": None,
        "attributes": [
            {"display_type": "number", "trait_type": "Attack", "value": 10 + token_id % 90},
            {"display_type": None, "trait_type": "Rarity", "value": "rare"},
        ],
    }


def refresh_body(items: int) -> bytes:
    """A refresh-metadata request body with token ids 1..items, compact JSON."""
    body = {"nft_metadata": [refresh_item(token_id) for token_id in range(1, items + 1)]}
    return json.dumps(body, separators=(",", ":")).encode()


@dataclasses.dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    data: bytes


def multipart(fields: Sequence[tuple[str, str | FilePart]], boundary: str = BOUNDARY) -> tuple[str, bytes]:
    """A multipart/form-data body: (its Content-Type, its bytes)."""
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, FilePart):
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{value.filename}"\r\n'
                    f"Content-Type: {value.content_type}\r\n\r\n").encode()
            out += value.data
        else:
            # Every part says its type: Prism 5.14 crashes on a part without one.
            out += (f'Content-Disposition: form-data; name="{name}"\r\n'
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode()
            out += value.encode()
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


# Operations -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Operation:
    """One request, sent over and over: what the load generator replays."""

    key: str
    label: str
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None
    expect: int
    api: str

    @property
    def spec_file(self) -> Path:
        """The spec of the operation's API: Prism mocks one per process."""
        return ROOT / "specs" / f"{self.api}.yaml"

    def spec(self, base_url: str, body_file: Path | None, connections: int, duration: float) -> dict[str, Any]:
        """The autocannon driver's input for this operation."""
        return {
            "url": base_url + self.path,
            "method": self.method,
            "headers": dict(self.headers),
            "bodyFile": str(body_file) if body_file else None,
            "connections": connections,
            "duration": duration,
            "timeout": 10,
        }


@dataclasses.dataclass(frozen=True)
class Targets:
    """Which records the operations address: the built-in fixtures' by default, or a generated file's."""

    collection_path: str = COLLECTION_PATH
    rair_path: str = RAIR_PATH
    tokenization_path: str = TOKENIZATION_PATH


def targets_of(fixtures: Mapping[str, Any]) -> Targets:
    """Records of a `mockserver fixtures` document the operations can use (its credentials are the built-in ones).

    The first RAIR contract and Immutable collection are full ones (the generator fills them in order); the
    Tokenization token is the last, so a lookup that scanned the tokens would show in the numbers.
    """
    contract = fixtures["rair"]["contracts"][0]
    collection = fixtures["immutable"]["collections"][0]
    token = fixtures["tokenization"]["tokens"][-1]
    return Targets(
        collection_path=f"/v1/chains/{collection['chain']}/collections/{collection['address']}",
        rair_path=f"/api/nft/network/{contract['network']}/{contract['address']}/0/token/1",
        tokenization_path=f"/v2/admin/token/{token['id']}",
    )


def operations(targets: Targets = Targets()) -> list[Operation]:
    """The mix: Immutable refreshes (1 and 250 items) and a read, a RAIR upload, a Tokenization update."""
    immutable_headers = {"x-immutable-api-key": IMMUTABLE_KEY, "content-type": "application/json"}
    png = FilePart("cover.png", "image/png", tiny_png())
    rair_type, rair_body = multipart([("name", "Renamed token"), ("files", png), ("image", "cover.png")])
    tkn_type, tkn_body = multipart([("name", "TKN Token Name Updated"), ("description", "Token Description")])
    collection = targets.collection_path
    return [
        Operation(KEY_OPERATION, "Immutable refresh POST, 1 item", "POST",
                  f"{collection}/nfts/refresh-metadata", immutable_headers, refresh_body(1), 202, "immutable"),
        Operation("refresh-250", "Immutable refresh POST, 250 items", "POST",
                  f"{collection}/nfts/refresh-metadata", immutable_headers, refresh_body(250), 202,
                  "immutable"),
        Operation("get-nft", "Immutable GET NFT", "GET", f"{collection}/nfts/1", {}, None, 200, "immutable"),
        Operation("rair-update", "RAIR POST multipart + PNG", "POST", targets.rair_path,
                  {"x-rair-token": RAIR_TOKEN, "content-type": rair_type}, rair_body, 200, "rair"),
        Operation("tkn-update", "Tokenization PUT multipart", "PUT", targets.tokenization_path,
                  {"authorization": f"Bearer {TOKENIZATION_BEARER}", "content-type": tkn_type}, tkn_body, 200,
                  "tokenization"),
    ]


# Results ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class LoadResult:
    """What one load run measured, from autocannon's JSON result."""

    requests: int
    duration: float
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    errors: int
    statuses: dict[str, int]


def parse_autocannon(raw: Mapping[str, Any]) -> LoadResult:
    """Reduce an autocannon result (its `--json` output) to the numbers the table shows.

    Requests/s is completed responses over the run's wall time, not autocannon's mean of per-second samples
    (which drops the last partial second). Errors are connection errors plus timeouts.
    """
    latency = raw.get("latency", {})
    requests = raw.get("requests", {})
    duration = float(raw.get("duration") or 0.0)
    total = int(requests.get("total", 0))
    statuses = {str(code): int(stats.get("count", 0)) for code, stats in raw.get("statusCodeStats", {}).items()}
    return LoadResult(
        requests=total,
        duration=duration,
        rps=total / duration if duration > 0 else 0.0,
        p50_ms=float(latency.get("p50", 0.0)),
        p99_ms=float(latency.get("p99", 0.0)),
        non2xx=int(raw.get("non2xx", 0)),
        errors=int(raw.get("errors", 0)) + int(raw.get("timeouts", 0)),
        statuses=statuses,
    )


@dataclasses.dataclass
class Row:
    """One line of the table: a server variant, an operation, what was measured (or why nothing was).

    `server_cpu` is the cores the server kept busy during the run (1.0 = one core, its ceiling with one worker);
    `other_cpu` the cores busy with anything but the server, the load generator and this script: other
    processes on the machine, which make the numbers noisy when they are well above 0.
    """

    server: str
    operation: str
    label: str
    result: LoadResult | None
    peak_rss_bytes: int | None
    note: str = ""
    server_cpu: float | None = None
    other_cpu: float | None = None


def mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f}"


def cores(n: float | None) -> str:
    return "-" if n is None else f"{n:.2f}"


def render_table(rows: Sequence[Row], title: str = "Load benchmark") -> Any:
    """The results as a rich Table."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("server")
    table.add_column("operation")
    for column in ("req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "peak RSS MiB", "server CPU", "other CPU"):
        table.add_column(column, justify="right")
    table.add_column("note")
    for row in rows:
        r = row.result
        usage = (mib(row.peak_rss_bytes), cores(row.server_cpu), cores(row.other_cpu))
        if r is None:
            table.add_row(row.server, row.label, "-", "-", "-", "-", "-", *usage, row.note)
            continue
        table.add_row(row.server, row.label, f"{r.rps:,.0f}", f"{r.p50_ms:g}", f"{r.p99_ms:g}", str(r.non2xx),
                      str(r.errors), *usage, row.note or _status_note(r))
    return table


def markdown_table(rows: Sequence[Row]) -> str:
    """The results as a Markdown table, for bench/README.md."""
    header = ("server", "operation", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "peak RSS MiB", "server CPU",
              "other CPU")
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "--:|" * (len(header) - 2)]
    for row in rows:
        r = row.result
        numbers = ([f"{r.rps:,.0f}", f"{r.p50_ms:g}", f"{r.p99_ms:g}", str(r.non2xx), str(r.errors)] if r
                   else ["-"] * 5)
        lines.append("| " + " | ".join([row.server, row.label, *numbers, mib(row.peak_rss_bytes),
                                         cores(row.server_cpu), cores(row.other_cpu)]) + " |")
    return "\n".join(lines) + "\n"


def _status_note(result: LoadResult) -> str:
    odd = {code: n for code, n in result.statuses.items() if not code.startswith("2")}
    return ", ".join(f"{n}x{code}" for code, n in sorted(odd.items()))


def find_row(rows: Sequence[Row], server: str, operation: str) -> Row | None:
    return next((r for r in rows if r.server == server and r.operation == operation and r.result), None)


def ratios(rows: Sequence[Row], *, mock: str = "mock") -> dict[str, dict[str, float]]:
    """Per operation: the mock's throughput over each other server's in the same run, and the mock's p99."""
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        if row.server != mock or row.result is None:
            continue
        entry = out.setdefault(row.operation, {"p99_ms": row.result.p99_ms})
        for other in (PRISM, PRISM_VALIDATING, BASELINE, SCALE_OUT):
            theirs = find_row(rows, other, row.operation)
            if theirs is not None and theirs.result is not None and theirs.result.rps > 0:
                entry[other] = row.result.rps / theirs.result.rps
    return out


def summary(rows: Sequence[Row], *, mock: str = "mock", prisms: Sequence[str] = (PRISM, PRISM_VALIDATING),
            validating: str = "mock +validate-responses") -> list[str]:
    """The verdict lines under the table: per operation the mock's ratio to each Prism (target 2x), to the bare
    Starlette baseline (its target share), the scale-out row, the p99 target; response validation's cost."""
    lines = []
    for operation, entry in ratios(rows, mock=mock).items():
        ours = find_row(rows, mock, operation)
        assert ours is not None
        assert ours.result is not None
        for prism in prisms:
            theirs = find_row(rows, prism, operation)
            if prism not in entry or theirs is None or theirs.result is None:
                continue
            verdict = "met" if entry[prism] >= TARGET_RATIO else "NOT met"
            lines.append(f"{operation}: mock {ours.result.rps:,.0f} req/s / {prism} {theirs.result.rps:,.0f} "
                         f"req/s = {entry[prism]:.2f}x (target >= {TARGET_RATIO:g}x: {verdict})")
        base = find_row(rows, BASELINE, operation)
        if BASELINE in entry and base is not None and base.result is not None:
            share = entry[BASELINE]
            target = BASELINE_TARGETS.get(operation)
            verdict = "" if target is None else f" (target >= {target:.0%}: {'met' if share >= target else 'NOT met'})"
            lines.append(f"{operation}: mock {ours.result.rps:,.0f} req/s / {BASELINE} {base.result.rps:,.0f} "
                         f"req/s = {share:.0%}{verdict}")
        scaled = find_row(rows, SCALE_OUT, operation)
        if SCALE_OUT in entry and scaled is not None and scaled.result is not None:
            lines.append(f"{operation}: {SCALE_OUT} {scaled.result.rps:,.0f} req/s = {1 / entry[SCALE_OUT]:.2f}x "
                         f"the mock's one worker in memory")
        if operation in SINGLE_ITEM_OPERATIONS:
            p99 = ours.result.p99_ms
            verdict = "met" if p99 < TARGET_P99_MS else "NOT met"
            lines.append(f"{operation}: mock p99 {p99:g} ms (target < {TARGET_P99_MS:g} ms: {verdict})")
    for row in rows:
        if row.server != validating or row.result is None:
            continue
        base = find_row(rows, mock, row.operation)
        if base is None or base.result is None or base.result.rps <= 0:
            continue
        change = row.result.rps / base.result.rps - 1
        lines.append(f"--validate-responses on {row.operation}: throughput {change:+.0%} "
                     f"({base.result.rps:,.0f} -> {row.result.rps:,.0f} req/s), p99 {base.result.p99_ms:g} -> "
                     f"{row.result.p99_ms:g} ms")
    return lines


# Profiles (py-spy's collapsed stacks) -----------------------------------------------------------------------

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
STDLIB = re.compile(r"/lib/python3\.\d+/(?P<rest>.*)$")

# Where a sample's time goes: (stage, file part, function part). A sample belongs to the stage of its deepest
# frame that a specific marker matches; failing that, of its deepest frame that a GENERIC one matches (those
# frameworks also run inside the specific stages: Connexion's nullable check inside jsonschema, say). Between
# markers that match the same frame the first listed wins.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("response validation", "connexion/middleware/response_validation.py", ""),
    ("parameter validation", "mockserver/web/validation.py", "ParameterValidator"),
    ("parameter validation", "connexion/validators/parameter.py", ""),
    ("request body parse + schema validation", "mockserver/web/validation.py", ""),
    ("request body parse + schema validation", "connexion/validators/", ""),
    ("auth (security middleware)", "mockserver/web/security.py", ""),
    ("auth (security middleware)", "connexion/security/", ""),
    ("handler, service, store", "mockserver/web/handlers.py", ""),
    ("handler, service, store", "mockserver/apis/", ""),
    ("handler, service, store", "mockserver/store/", ""),
    ("response serialization (Connexion)", "connexion/decorators/response.py", ""),
    ("parameter decoding (Connexion decorators)", "connexion/decorators/", ""),
    ("access log (logging)", "/logging/", ""),
)
GENERIC: tuple[tuple[str, str, str], ...] = (
    ("uvicorn HTTP protocol (parse, send)", "uvicorn/protocols/", ""),
    ("middleware, routing, dispatch", "mockserver/web/", ""),
    ("middleware, routing, dispatch", "connexion/", ""),
    ("middleware, routing, dispatch", "starlette/", ""),
)
OUTSIDE = "event loop, sockets, other"


def parse_frame(frame: str) -> tuple[str, str]:
    """A py-spy frame `function (path/to/file.py:12)` as (function, file)."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return match["function"], match["file"]


def package_of(file: str) -> str:
    """The package a source file belongs to: `.../site-packages/jsonschema/validators.py` -> `jsonschema`,
    `.../lib/python3.11/json/decoder.py` -> `stdlib:json`."""
    path = file.replace("\\", "/")
    parts = path.split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1:]
            return rest[0].removesuffix(".py") if rest else path
    if "mockserver" in parts[:-1]:
        return "mockserver"
    stdlib = STDLIB.search(path)
    if stdlib:
        return "stdlib:" + stdlib["rest"].split("/")[0].removesuffix(".py")
    if path.startswith("<frozen "):
        return "stdlib:" + path.removeprefix("<frozen ").rstrip(">").split(".")[0]
    return parts[-1] or path


def stage_of(frames: Sequence[tuple[str, str]]) -> str:
    """The stage of one sample (its frames root first): see STAGES."""
    for markers in (STAGES, GENERIC):
        for function, file in reversed(frames):
            for stage, file_part, function_part in markers:
                if file_part in file and function_part in function:
                    return stage
    return OUTSIDE


@dataclasses.dataclass
class Profile:
    samples: int
    self_by_function: collections.Counter[str]
    self_by_package: collections.Counter[str]
    by_stage: collections.Counter[str]


def summarize_collapsed(lines: Iterable[str]) -> Profile:
    """Self counts per function and per package, and counts per stage, from py-spy's collapsed stacks."""
    samples = 0
    self_fn: collections.Counter[str] = collections.Counter()
    self_pkg: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count_text = line.strip().rpartition(" ")
        if not count_text.isdigit() or not stack:
            continue
        frames = [parse_frame(f) for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        if not frames:
            continue
        count = int(count_text)
        samples += count
        function, file = frames[-1]
        self_fn[f"{function} ({_short_file(file)})"] += count
        self_pkg[package_of(file)] += count
        stages[stage_of(frames)] += count
    return Profile(samples, self_fn, self_pkg, stages)


def _short_file(file: str) -> str:
    path = file.replace("\\", "/")
    parts = path.split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1:])
    if "mockserver" in parts[:-1]:
        return "/".join(parts[parts.index("mockserver"):])
    stdlib = STDLIB.search(path)
    return stdlib["rest"] if stdlib else path


def render_profile(profile: Profile, top: int = 15) -> list[Any]:
    """Rich tables: time by stage of the request path, self time by package, top functions by self time."""
    from rich.table import Table

    def table(title: str, counter: collections.Counter[str], label: str, limit: int | None) -> Table:
        t = Table(title=title, title_justify="left")
        t.add_column(label)
        t.add_column("% of samples", justify="right")
        for name, count in counter.most_common(limit):
            t.add_row(name, f"{100 * count / max(profile.samples, 1):.1f}")
        return t

    return [
        table(f"Where the time goes ({profile.samples} samples; deepest matching frame)", profile.by_stage,
              "stage", None),
        table("Self time by package", profile.self_by_package, "package", top),
        table("Top functions, self time", profile.self_by_function, "function", top),
    ]


# Processes --------------------------------------------------------------------------------------------------


def display(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(p) for p in f.read().split()]
    return found


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its descendants, in bytes (0 once it is gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        with contextlib.suppress(OSError), open(f"/proc/{current}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        todo += _children(current)
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{current}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        todo += _children(current)
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, anything but idle and I/O wait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of its waited-for children (the load generator runs)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def wait_idle(pid: int, timeout: float = 120.0, interval: float = 0.25, busy: float = 0.05) -> float:
    """Wait until a server stops burning CPU (below `busy` of a core for two intervals); the seconds waited.

    When a load run ends, the load generator drops its connections but the server still works through the
    requests it had accepted; without this the next run would start behind that backlog.
    """
    start = time.monotonic()
    quiet = 0
    last = tree_cpu_seconds(pid)
    while time.monotonic() - start < timeout and quiet < 2:
        time.sleep(interval)
        now = tree_cpu_seconds(pid)
        quiet = quiet + 1 if now - last < busy * interval else 0
        last = now
    return time.monotonic() - start


class RssSampler:
    """Samples a process tree's RSS in a thread while in its `with` block; `peak()` is the highest seen."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, tree_rss(self.pid))
            self._stop.wait(self.interval)

    def peak(self) -> int:
        return max(self._peak, tree_rss(self.pid))


class Server:
    """A server process on a loopback port, its output in a log file, stopped by its own pid."""

    def __init__(self, name: str, command: list[str], port: int, ready_path: str | None, log: Path,
                 cwd: Path = ROOT, start_timeout: float = 60.0) -> None:
        """`ready_path`: any HTTP answer there means started; None: a server that is not HTTP (Redis), started
        once its port accepts a connection."""
        self.name, self.command, self.port, self.ready_path = name, command, port, ready_path
        self.log_path, self.cwd, self.start_timeout = log, cwd, start_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_description(self) -> str:
        code = self.process.poll() if self.process is not None else None
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        # Its own session, so stopping it can signal the whole group it started (Prism's node, nothing else).
        self.process = subprocess.Popen(self.command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with {self.process.returncode} while starting; "
                                   f"log tail:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                if self.ready_path is None:
                    socket.create_connection((HOST, self.port), timeout=2).close()
                    return
                status, _ = http_request("GET", self.base_url + self.ready_path, timeout=2)
                if status:
                    return
            time.sleep(0.2)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer within {self.start_timeout:.0f} s; log tail:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class ServerFailed(RuntimeError):
    pass


def http_request(method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
                 timeout: float = 10) -> tuple[int, bytes]:
    """One request with the standard library: (status, body); HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# Tools ------------------------------------------------------------------------------------------------------


def npm_tool(package: str, binary: str, console: Any = None) -> Path:
    """The path of an npm package's binary in bench/.tools, installing the package there first if needed.

    tests/conformance/test_prism.py installs Prism through here too, so both use one git-ignored copy.
    """
    path = NODE_MODULES / ".bin" / binary
    if path.exists():
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"npm is needed to install {package} (Node 18+); it is not on PATH.")
    TOOLS.mkdir(parents=True, exist_ok=True)
    # The test workers (pytest-xdist) may each need the tool first: one installs it, the others wait for it, rather
    # than two npm runs writing into one folder at once.
    with open(TOOLS / ".install.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        if console is not None:
            console.print(f"[dim]installing {package} into {TOOLS.relative_to(ROOT)}/ ...[/dim]")
        # npm holds the lock too: were this process killed, its npm would still be writing.
        subprocess.run([npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel", "error",
                        package], check=True, timeout=600, pass_fds=(lock.fileno(),))
    if not path.exists():
        raise SystemExit(f"npm installed {package} but {path} is missing.")
    return path


def prism_server(spec: Path, log: Path, *, name: str = "prism", ready_path: str = "/", dynamic: bool = False,
                 verbose_level: str | None = None, console: Any = None) -> Server:
    """Stoplight Prism 5 mocking `spec` on a free loopback port (not started yet), installed on first use.

    `dynamic` answers with data generated from the response schemas, different on every request, instead of
    the spec's examples.
    """
    binary = npm_tool(PRISM_PACKAGE, "prism", console)
    port = free_port()
    command = [str(binary), "mock", "--host", HOST, "--port", str(port)]
    if dynamic:
        command.append("--dynamic")
    if verbose_level is not None:
        command += ["--verboseLevel", verbose_level]
    return Server(name, [*command, str(spec)], port, ready_path, log)


def redis_server(log: Path) -> Server:
    """A throwaway redis-server on a free loopback port, without persistence (not started yet)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerFailed("redis-server is not on PATH (the Redis store's rows need it)")
    port = free_port()
    command = [binary, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    return Server("redis", command, port, None, log)


def py_spy(console: Any) -> Path:
    """py-spy's binary, pip-installed into bench/.tools/py (not into the project's environment)."""
    path = TOOLS / "py" / "bin" / "py-spy"
    if path.exists():
        return path
    console.print(f"[dim]installing {PY_SPY_PACKAGE} into {TOOLS.relative_to(ROOT)}/py ...[/dim]")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(TOOLS / "py"),
                    PY_SPY_PACKAGE], check=True, timeout=600)
    return path


def tool_version(command: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    return "?"


def checkout() -> str:
    """The commit the mock runs from, marked `+changes` when the work tree differs from it."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "mockserver", "specs"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{head}{'+changes' if dirty else ''}" if head else "?"
    return "?"


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    memory = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kib = next((int(line.split()[1]) for line in f if line.startswith("MemTotal:")), 0)
        memory = f"{kib / 2**20:.0f} GiB"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": tool_version(["node", "--version"]),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "checkout": checkout(),
    }


# The run ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Options:
    duration: float
    warmup: float
    connections: int
    prism: bool
    validate_responses: bool
    profile: bool
    log_level: str
    only: list[str]
    results: Path
    repeat: int = 1
    tokens: int | None = None
    scale_out: bool = False
    mock_command: list[str] = dataclasses.field(default_factory=lambda: [sys.executable, "-m", "mockserver"])


class Bench:
    def __init__(self, options: Options, console: Any) -> None:
        self.options, self.console = options, console
        npm_tool(AUTOCANNON_PACKAGE, "autocannon", console)
        self.autocannon_dir = NODE_MODULES / "autocannon"
        self.bodies = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def close(self) -> None:
        shutil.rmtree(self.bodies, ignore_errors=True)

    def body_file(self, op: Operation) -> Path | None:
        if op.body is None:
            return None
        path = self.bodies / f"{op.key}.body"
        if not path.exists():
            path.write_bytes(op.body)
        return path

    def load(self, op: Operation, base_url: str, duration: float) -> LoadResult:
        spec_path = self.bodies / f"{op.key}.spec.json"
        spec_path.write_text(json.dumps(op.spec(base_url, self.body_file(op), self.options.connections, duration)))
        env = {**os.environ, "AUTOCANNON_DIR": str(self.autocannon_dir)}
        out = subprocess.run(["node", str(BENCH_DIR / "autocannon_driver.js"), str(spec_path)], env=env,
                             capture_output=True, text=True, timeout=duration + 120, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"autocannon failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        return parse_autocannon(json.loads(out.stdout))

    def check(self, server: Server, op: Operation, want_exact: bool) -> str:
        """Send the operation once; a note if the answer is not the expected one (the load still runs)."""
        status, body = http_request(op.method, server.base_url + op.path, op.headers, op.body)
        ok = status == op.expect if want_exact else 200 <= status < 300
        if ok:
            return ""
        snippet = body[:200].decode("utf-8", "replace")
        self.notes.append(f"{server.name} {op.key}: single request answered {status}, expected {op.expect}: "
                          f"{snippet}")
        return f"answered {status}"

    def run_server(self, server: Server, ops: Sequence[Operation], *, exact: bool) -> None:
        self.console.print(f"[bold]{server.name}[/bold]: {shlex.join(server.command)}")
        try:
            for op in ops:
                if not server.running:
                    try:
                        server.start()
                    except ServerFailed as exc:
                        self.notes.append(str(exc))
                        self.rows.append(Row(server.name, op.key, op.label, None, None, "did not start"))
                        continue
                runs = []
                for _ in range(self.options.repeat):
                    if not server.running:
                        break
                    runs.append(self.measure(server, op, exact=exact))
                self.rows.append(quietest(runs))
        finally:
            server.stop()

    def measure(self, server: Server, op: Operation, *, exact: bool) -> Row:
        """One operation against a running server: check, warm up, settle, load, settle."""
        note = self.check(server, op, exact)
        if self.options.warmup > 0:
            self.load(op, server.base_url, self.options.warmup)
        wait_idle(server.pid)
        self.console.print(f"  {op.label}: {self.options.duration:g} s x {self.options.connections} connections ...")
        with RssSampler(server.pid) as rss:
            before = (time.monotonic(), tree_cpu_seconds(server.pid), machine_busy_seconds(), sum(own_cpu_seconds()))
            result = self.load(op, server.base_url, self.options.duration)
            after = (time.monotonic(), tree_cpu_seconds(server.pid), machine_busy_seconds(), sum(own_cpu_seconds()))
            peak = rss.peak()
        wall, server_cpu, busy, ours = (b - a for a, b in zip(before, after, strict=True))
        other = max(busy - server_cpu - ours, 0.0) / wall
        if not server.running:
            # Something else stopped it (it is restarted for the next operation); its numbers mean nothing.
            note = f"server exited during the run ({server.exit_description()})"
            self.notes.append(f"{server.name} {op.key}: {note}; log: {display(server.log_path)}")
        elif other > NOISY_OTHER_CPU and not note:
            note = "noisy: other processes busy"
        if server.running:
            wait_idle(server.pid)
        return Row(server.name, op.key, op.label, result, peak, note, server_cpu=server_cpu / wall, other_cpu=other)

    def profile(self, server: Server, op: Operation) -> None:
        """Load `op` while py-spy samples the server; collapsed stacks to a file, hot spots printed."""
        spy = py_spy(self.console)
        stamp = self.options.results.name
        raw = self.options.results / f"profile-{op.key}.txt"
        server.start()
        try:
            self.load(op, server.base_url, max(self.options.warmup, 1.0))
            wait_idle(server.pid)
            seconds = max(int(self.options.duration), 2)
            self.console.print(f"[bold]profiling[/bold] {op.label} with py-spy for {seconds} s ({stamp}) ...")
            # Blocking sampling (the default): --nonblocking reads the stacks while they change and yields
            # truncated ones. Idle time (waiting in epoll) is left out, so shares are of the server's busy time.
            recorder = subprocess.Popen([str(spy), "record", "--pid", str(server.pid), "--duration", str(seconds),
                                         "--rate", "100", "--full-filenames", "--format", "raw", "-o", str(raw)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            self.load(op, server.base_url, seconds)
            try:
                _, err = recorder.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                _, err = recorder.communicate()
            if recorder.returncode:
                self.notes.append(f"py-spy failed ({recorder.returncode}): {err.decode(errors='replace')[-500:]}")
        finally:
            server.stop()
        if raw.exists():
            with raw.open() as f:
                profile = summarize_collapsed(f)
            for table in render_profile(profile):
                self.console.print(table)
            self.console.print(f"collapsed stacks (flamegraph.pl or speedscope read them): {display(raw)}")

    def mock(self, name: str, *, validate_responses: bool, fixtures: Path | None = None,
             workers: int = 1, store: str | None = None) -> Server:
        port = free_port()
        command = [*self.options.mock_command, "serve", "--host", HOST, "--port", str(port),
                   "--set", f"immutable.rate_limit.limit={MOCK_RATE_LIMIT}", "--log-level", self.options.log_level]
        if validate_responses:
            command.append("--validate-responses")
        if workers != 1:
            command += ["--workers", str(workers)]
        if store is not None:
            command += ["--store", store]
        if fixtures is not None:
            command += ["--fixtures", str(fixtures)]
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return Server(name, command, port, "/openapi/immutable.json", self.options.results / f"{slug}.log")

    def prism(self, spec: Path, name: str = PRISM) -> Server:
        level = self.options.log_level
        quiet = {"warning": "warn", "error": "error", "critical": "error"}.get(level)
        slug = name.replace(" ", "").replace("+", "-") + "-" + spec.stem
        # Any answer means it is up (Prism answers 404 at /).
        return prism_server(spec, self.options.results / f"{slug}.log", name=name, ready_path="/",
                            verbose_level=quiet, console=self.console)

    def baseline(self) -> Server:
        """bench/baseline.py on uvicorn, one worker, with the mock's log level (so the access log alike)."""
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "baseline:app", "--host", HOST,
                   "--port", str(port), "--log-level", self.options.log_level]
        return Server(BASELINE, command, port, "/", self.options.results / "bare-starlette.log")

    def prism_validating_spec(self, spec_file: Path) -> Path:
        """A spec with `null` dropped from enums of nullable schemas, which Prism can check.

        As written (`nullable: true` plus an enum that lists null, as OpenAPI 3.0.3 asks), the refresh body's
        schema makes Prism 5 skip body validation without a word: it answers 202 even to `{}`. Without the
        null in the enum the schema means the same (`nullable` still admits null) and Prism validates.
        """
        import yaml

        spec = yaml.safe_load(spec_file.read_text())
        path = self.options.results / f"{spec_file.stem}-prism-validating.yaml"
        path.write_text(yaml.safe_dump(drop_nullable_enum_nulls(spec), sort_keys=False))
        return path

    def generated_fixtures(self, tokens: int) -> tuple[Path, Targets]:
        """A `mockserver fixtures --tokens N --seed 1` file in the results directory, and its targets."""
        from mockserver.fixturegen import fixtures_yaml, generate_fixtures

        path = self.options.results / f"fixtures-{tokens}.yaml"
        path.write_text(fixtures_yaml(tokens, seed=1), encoding="utf-8")
        return path, targets_of(generate_fixtures(tokens, seed=1))

    def selected(self, targets: Targets = Targets()) -> list[Operation]:
        return [op for op in operations(targets) if not self.options.only or op.key in self.options.only]

    def run(self) -> None:
        ops = self.selected()
        self.run_server(self.mock("mock", validate_responses=False), ops, exact=True)
        if self.options.tokens is not None:
            fixtures, targets = self.generated_fixtures(self.options.tokens)
            name = f"mock, {self.options.tokens:,} tokens"
            self.run_server(self.mock(name, validate_responses=False, fixtures=fixtures), self.selected(targets),
                            exact=True)
        if self.options.validate_responses:
            self.run_server(self.mock("mock +validate-responses", validate_responses=True), ops, exact=True)
        if self.options.scale_out:
            self.run_scale_out(ops)
        if self.options.prism:
            baseline_ops = [op for op in ops if op.key in BASELINE_OPERATIONS]
            if baseline_ops:
                self.run_server(self.baseline(), baseline_ops, exact=True)
            # Prism mocks one spec per process: one process per API, plain and validating.
            by_spec: dict[Path, list[Operation]] = {}
            for op in ops:
                by_spec.setdefault(op.spec_file, []).append(op)
            for spec_file, spec_ops in by_spec.items():
                self.run_server(self.prism(spec_file), spec_ops, exact=False)
            for spec_file, spec_ops in by_spec.items():
                self.run_server(self.prism(self.prism_validating_spec(spec_file), PRISM_VALIDATING), spec_ops,
                                exact=False)
        if self.options.profile:
            key = next((op for op in ops if op.key == KEY_OPERATION), ops[0])
            self.profile(self.mock("mock (profiled)", validate_responses=False), key)


    def run_scale_out(self, ops: Sequence[Operation]) -> None:
        """The mock with two workers sharing a Redis store this run starts (and stops)."""
        try:
            redis = redis_server(self.options.results / "redis.log")
            redis.start()
        except ServerFailed as exc:
            self.notes.append(f"{SCALE_OUT}: {exc}")
            return
        try:
            url = f"redis://{HOST}:{redis.port}/0"
            self.run_server(self.mock(SCALE_OUT, validate_responses=False, workers=2, store=url), ops, exact=True)
        finally:
            redis.stop()


def drop_nullable_enum_nulls(node: Any) -> Any:
    """A copy of an OpenAPI document with `null` removed from the `enum` of every `nullable: true` schema."""
    if isinstance(node, dict):
        out = {key: drop_nullable_enum_nulls(value) for key, value in node.items()}
        if out.get("nullable") is True and isinstance(out.get("enum"), list):
            kept = [value for value in out["enum"] if value is not None]
            out["enum"] = kept or out["enum"]  # an enum of null alone stays: an empty enum is not a schema
        return out
    if isinstance(node, list):
        return [drop_nullable_enum_nulls(value) for value in node]
    return node


def quietest(rows: Sequence[Row]) -> Row:
    """Of several runs of one operation, the one other processes disturbed least (then the fastest)."""

    def key(row: Row) -> tuple[bool, float, float]:
        failed = row.result is None or row.note.startswith("server exited")
        other = row.other_cpu if row.other_cpu is not None else float("inf")
        return failed, round(other, 1), -(row.result.rps if row.result else 0.0)

    best = min(rows, key=key)
    if len(rows) > 1:
        best.note = (best.note + "; " if best.note else "") + f"quietest of {len(rows)}"
    return best


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=DURATION,
                        help=f"seconds of load per operation (default {DURATION:g})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION:g} s per operation")
    parser.add_argument("--connections", type=int, default=CONNECTIONS,
                        help=f"concurrent connections (default {CONNECTIONS})")
    parser.add_argument("--warmup", type=float, default=WARMUP,
                        help=f"seconds of unmeasured load before each operation (default {WARMUP:g})")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="measure each operation N times and keep the run other processes disturbed least "
                             "(for shared machines; see the `other CPU` column)")
    parser.add_argument("--prism", action="store_true",
                        help="also run every operation against Stoplight Prism 5 (one process per spec, as "
                             "written and on a copy whose bodies it validates) and the refreshes against a bare "
                             "Starlette app (bench/baseline.py); ratios per operation")
    parser.add_argument("--scale-out", action="store_true",
                        help="also run the mock with --workers 2 --store redis://... on a redis-server started "
                             "for the run")
    parser.add_argument("--validate-responses", action="store_true",
                        help="also run the mock with --validate-responses and print what it costs")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, profile the 1-item refresh under load with py-spy")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"],
                        help="the mock's --log-level (default info, as `mockserver serve`; info writes an access "
                             "log line per request); warning or above also quiets Prism")
    parser.add_argument("--tokens", type=int, default=None, metavar="N",
                        help="also run the mock on N generated tokens (`mockserver fixtures --tokens N --seed 1`), "
                             "to see whether latency stays flat as the data grows")
    parser.add_argument("--only", action="append", default=[], metavar="OP",
                        choices=[op.key for op in operations()], help="run only this operation (repeatable)")
    parser.add_argument("--mock-command", default=None, metavar="CMD",
                        help="how to start the mock, `serve ...` appended (default: this Python's "
                             "`-m mockserver`); e.g. another checkout's venv, to compare two versions")
    parser.add_argument("--results", type=Path, default=None,
                        help="directory for the JSON results, server logs and profiles "
                             "(default bench/results/<timestamp>)")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.duration > 600 or args.connections < 1 or args.connections > 1024:
        parser.error("--duration must be in (0, 600] seconds and --connections in [1, 1024]")
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be in [1, 10]")
    if args.tokens is not None and not 3 <= args.tokens <= 1_000_000:
        parser.error("--tokens must be in [3, 1000000]")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Options(
        duration=QUICK_DURATION if args.quick else args.duration,
        warmup=min(args.warmup, 0.5) if args.quick else args.warmup,
        connections=args.connections,
        prism=args.prism,
        validate_responses=args.validate_responses,
        profile=args.profile,
        log_level=args.log_level,
        only=args.only,
        repeat=args.repeat,
        tokens=args.tokens,
        scale_out=args.scale_out,
        results=(args.results or RESULTS / stamp).resolve(),
        **({"mock_command": shlex.split(args.mock_command)} if args.mock_command else {}),
    )


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    options = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    options.results.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["autocannon"] = AUTOCANNON_PACKAGE
    bench = Bench(options, console)
    console.print(" | ".join(f"{k}: {v}" for k, v in info.items()))
    console.print(f"{options.connections} connections, {options.duration:g} s per operation after "
                  f"{options.warmup:g} s warm-up, mock log level {options.log_level}"
                  + (f", quietest of {options.repeat} runs each" if options.repeat > 1 else ""))
    try:
        bench.run()
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        return 130
    finally:
        bench.close()
    console.print(render_table(bench.rows, title=f"Load benchmark, {options.connections} connections, "
                                                 f"{options.duration:g} s per operation ({info['date']})"))
    for line in summary(bench.rows):
        console.print(line)
    for note in bench.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    out = options.results / "results.json"
    out.write_text(json.dumps({
        "machine": info,
        "options": {**dataclasses.asdict(options), "results": str(options.results)},
        "rows": [dataclasses.asdict(row) for row in bench.rows],
        "summary": summary(bench.rows),
        "ratios": ratios(bench.rows),
        "notes": bench.notes,
    }, indent=2, default=str))
    (options.results / "results.md").write_text(
        " | ".join(f"{k}: {v}" for k, v in info.items()) + "\n\n" + markdown_table(bench.rows) + "\n"
        + "".join(f"- {line}\n" for line in summary(bench.rows)))
    console.print(f"[dim]results: {display(out)} (and results.md)[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
