"""Smoke tests of the load benchmark's pure-Python pieces: no load, no timing, no sockets.

bench/bench.py is a script, not a package, so it is loaded from its path (`tests.bench.load_bench`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from tests.bench import load_bench

ROOT = Path(__file__).resolve().parents[2]
CANNED = Path(__file__).with_name("autocannon-result.json")
bench = load_bench()


def _result(rps: float, p99: float, **extra: Any) -> Any:
    fields = {"requests": int(rps * 10), "duration": 10.0, "rps": rps, "p50_ms": p99 / 2, "p99_ms": p99,
              "non2xx": 0, "errors": 0, "statuses": {"202": int(rps * 10)}}
    return bench.LoadResult(**{**fields, **extra})


def _text(renderable: Any) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_parse_autocannon_reads_the_canned_result() -> None:
    result = bench.parse_autocannon(json.loads(CANNED.read_text()))

    assert result.requests == 1264
    assert result.duration == pytest.approx(2.06)
    assert result.rps == pytest.approx(1264 / 2.06)
    assert (result.p50_ms, result.p99_ms) == (47, 110)
    assert result.non2xx == 4
    assert result.errors == 3  # one connection error and two timeouts
    assert result.statuses == {"202": 1260, "429": 4}


def test_parse_autocannon_tolerates_an_empty_run() -> None:
    result = bench.parse_autocannon({"duration": 0, "requests": {}, "latency": {}})

    assert (result.requests, result.rps, result.non2xx, result.errors) == (0, 0.0, 0, 0)


def test_table_shows_every_row_and_its_numbers() -> None:
    parsed = bench.parse_autocannon(json.loads(CANNED.read_text()))
    rows = [
        bench.Row("mock", "refresh-1", "Immutable refresh POST, 1 item", parsed, 80 * 2**20,
                  server_cpu=0.98, other_cpu=0.03),
        bench.Row("prism", "refresh-1", "Immutable refresh POST, 1 item", None, None, "did not start"),
    ]

    text = _text(bench.render_table(rows, title="Load benchmark"))

    for expected in ("req/s", "p50 ms", "p99 ms", "non-2xx", "peak RSS MiB", "Immutable refresh POST, 1 item",
                     f"{1264 / 2.06:,.0f}", "110", "4x429", "did not start", " 80 ", "0.98"):
        assert expected in text


def test_summary_states_the_ratio_and_the_targets() -> None:
    rows = [
        bench.Row("mock", "refresh-1", "r1", _result(900, 15), None),
        bench.Row("prism", "refresh-1", "r1", _result(300, 90), None),
        bench.Row("mock", "get-nft", "g", _result(1000, 10), None),
        bench.Row("mock +validate-responses", "get-nft", "g", _result(750, 14), None),
    ]

    lines = bench.summary(rows)

    assert any("/ prism 300 req/s = 3.00x" in line and "NOT" not in line for line in lines)
    assert any("p99 15 ms" in line and "NOT" not in line for line in lines)
    assert any("get-nft" in line and "-25%" in line for line in lines)


def test_summary_says_when_the_target_is_missed_and_skips_a_missing_prism() -> None:
    lines = bench.summary([bench.Row("mock", "refresh-1", "r1", _result(500, 80), None)])

    assert lines == ["refresh-1: mock p99 80 ms (target < 20 ms: NOT met)"]


def test_summary_and_ratios_cover_every_operation_and_every_comparison() -> None:
    rows = [
        bench.Row("mock", "refresh-250", "r250", _result(300, 200), None),
        bench.Row(bench.PRISM_VALIDATING, "refresh-250", "r250", _result(200, 300), None),
        bench.Row(bench.BASELINE, "refresh-250", "r250", _result(1500, 40), None),
        bench.Row(bench.SCALE_OUT, "refresh-250", "r250", _result(450, 150), None),
        bench.Row("mock", "tkn-update", "t", _result(2000, 12), None),
        bench.Row(bench.PRISM_VALIDATING, "tkn-update", "t", _result(500, 60), None),
    ]

    lines = bench.summary(rows)
    ratios = bench.ratios(rows)

    assert ratios == {
        "refresh-250": {"p99_ms": 200, bench.PRISM_VALIDATING: 1.5, bench.BASELINE: 0.2,
                        bench.SCALE_OUT: pytest.approx(300 / 450)},
        "tkn-update": {"p99_ms": 12, bench.PRISM_VALIDATING: 4.0},
    }
    assert "refresh-250: mock 300 req/s / prism (validating) 200 req/s = 1.50x (target >= 2x: NOT met)" in lines
    assert "refresh-250: mock 300 req/s / bare Starlette 1,500 req/s = 20% (target >= 25%: NOT met)" in lines
    assert "refresh-250: mock, 2 workers + Redis 450 req/s = 1.50x the mock's one worker in memory" in lines
    assert "tkn-update: mock 2,000 req/s / prism (validating) 500 req/s = 4.00x (target >= 2x: met)" in lines
    assert "tkn-update: mock p99 12 ms (target < 20 ms: met)" in lines
    assert not any("refresh-250: mock p99" in line for line in lines)  # 250 items: no single-item p99 target


def test_tiny_png_is_a_valid_png() -> None:
    import filetype

    png = bench.tiny_png()

    assert filetype.guess_mime(png) == "image/png"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1, 1)
    idat = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[idat - 4:idat])
    assert len(zlib.decompress(png[idat + 4:idat + 4 + length])) == 1 + 4  # filter byte + one RGBA pixel


def test_refresh_bodies_are_compact_and_complete() -> None:
    one = json.loads(bench.refresh_body(1))
    many = bench.refresh_body(250)

    assert [item["token_id"] for item in json.loads(many)["nft_metadata"]] == [str(i) for i in range(1, 251)]
    assert set(one["nft_metadata"][0]) == {"token_id", "name", "description", "image", "external_url",
                                           "animation_url", "youtube_url", "attributes"}
    assert many == json.dumps(json.loads(many), separators=(",", ":")).encode()  # compact
    assert len(many) < 228 * 1024  # Immutable's request size limit


def test_multipart_body_parses_back() -> None:
    from starlette.datastructures import Headers, UploadFile
    from starlette.formparsers import MultiPartParser

    png = bench.tiny_png()
    content_type, body = bench.multipart([("name", "Renamed"), ("files", bench.FilePart("c.png", "image/png", png))])

    async def parse() -> Any:
        async def stream() -> Any:
            yield body

        return await MultiPartParser(Headers({"content-type": content_type}), stream()).parse()

    form = asyncio.run(parse())
    assert form["name"] == "Renamed"
    # Every part carries a Content-Type: Prism 5.14 crashes on a part without one.
    assert body.count(b"Content-Type: ") == 2
    upload = form["files"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.content_type) == ("c.png", "image/png")
    assert asyncio.run(upload.read()) == png


def test_operations_are_the_mix_the_brief_names() -> None:
    ops = {op.key: op for op in bench.operations()}

    assert list(ops) == ["refresh-1", "refresh-250", "get-nft", "rair-update", "tkn-update"]
    assert [op.key for op in ops.values() if op.api == "immutable"] == ["refresh-1", "refresh-250", "get-nft"]
    spec = ops["rair-update"].spec("http://127.0.0.1:1", Path("/tmp/body"), 32, 10)
    assert spec["url"].startswith("http://127.0.0.1:1/api/nft/network/0x89/")
    assert spec["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert (spec["connections"], spec["duration"], spec["bodyFile"]) == (32, 10, "/tmp/body")
    # Prism mocks one spec per process: each operation names the one it is compared on.
    assert {op.key: op.spec_file.name for op in ops.values()} == {
        "refresh-1": "immutable.yaml", "refresh-250": "immutable.yaml", "get-nft": "immutable.yaml",
        "rair-update": "rair.yaml", "tkn-update": "tokenization.yaml"}
    assert all(op.spec_file.is_file() for op in ops.values())


def test_baseline_app_parses_the_refresh_and_answers_202() -> None:
    spec = importlib.util.spec_from_file_location("mockserver_bench_baseline", ROOT / "bench" / "baseline.py")
    assert spec is not None
    assert spec.loader is not None
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    op = next(op for op in bench.operations() if op.key == "refresh-250")

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=baseline.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(op.method, op.path, headers=dict(op.headers), content=op.body)

    response = asyncio.run(send())
    assert (response.status_code, response.json()) == (202, {"items": 250})


@pytest.mark.parametrize("tokens", [None, 300], ids=["built-in fixtures", "generated fixtures"])
def test_every_operation_gets_its_expected_status_from_the_mock_in_process(tokens: int | None) -> None:
    """The requests the load replays are ones the mock accepts (checked through ASGI, no socket), on the built-in
    fixtures and on the generated ones `--tokens` serves."""
    from mockserver.fixturegen import generate_fixtures
    from mockserver.fixtures import parse_fixtures
    from mockserver.settings import load_settings
    from mockserver.web import create_app

    targets, fixtures = bench.Targets(), None
    if tokens is not None:
        document = generate_fixtures(tokens, seed=1)
        targets, fixtures = bench.targets_of(document), parse_fixtures(document)
    assert (targets == bench.Targets()) == (tokens is None)
    ops = bench.operations(targets)
    app = create_app(load_settings(overrides={"immutable.rate_limit.limit": bench.MOCK_RATE_LIMIT}),
                     fixtures=fixtures)

    async def send_all() -> dict[str, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            statuses = {}
            for op in ops:
                response = await client.request(op.method, op.path, headers=dict(op.headers), content=op.body)
                statuses[op.key] = response.status_code
            return statuses

    assert asyncio.run(send_all()) == {op.key: op.expect for op in ops}


COLLAPSED = [
    "process 1:python;_run_module_as_main (<frozen runpy>:198);Runner.run "
    "(/usr/lib/python3.11/asyncio/runners.py:118) 5",
    "_run_module_as_main (<frozen runpy>:198);RequestValidationOperation.__call__ "
    "(/v/site-packages/connexion/middleware/request_validation.py:140);JsonBodyValidator._validate "
    "(/w/mockserver/web/validation.py:173);allow_nullable.<locals>.nullable_validation_fn "
    "(/v/site-packages/connexion/json_schema.py:126);type (/v/site-packages/jsonschema/_keywords.py:287) 3",
    "_run_module_as_main (<frozen runpy>:198);RoutingMiddleware.__call__ "
    "(/v/site-packages/connexion/middleware/routing.py:158) 2",
    "RequestResponseCycle.send (/v/site-packages/uvicorn/protocols/http/httptools_impl.py:551);Logger.info "
    "(/usr/lib/python3.11/logging/__init__.py:1489) 1",
    "not a stack line",
]


def test_collapsed_stacks_summarize_by_stage_package_and_function() -> None:
    profile = bench.summarize_collapsed(COLLAPSED)

    assert profile.samples == 11
    assert profile.by_stage == {bench.OUTSIDE: 5, "request body parse + schema validation": 3,
                                "middleware, routing, dispatch": 2, "access log (logging)": 1}
    assert profile.self_by_package == {"stdlib:asyncio": 5, "jsonschema": 3, "connexion": 2, "stdlib:logging": 1}
    assert profile.self_by_function["type (jsonschema/_keywords.py)"] == 3
    text = "".join(_text(table) for table in bench.render_profile(profile))
    assert "45.5" in text  # 5 of 11 samples


def test_quick_means_three_seconds() -> None:
    options = bench.parse_args(["--quick", "--prism", "--only", "refresh-1", "--results", "/tmp/x"])

    assert (options.duration, options.connections, options.prism, options.only) == (3.0, 32, True, ["refresh-1"])
    assert bench.parse_args([]).duration == bench.DURATION
    with pytest.raises(SystemExit):
        bench.parse_args(["--duration", "0"])


def test_repeated_runs_keep_the_quietest() -> None:
    noisy = bench.Row("mock", "get-nft", "g", _result(900, 10), None, server_cpu=0.7, other_cpu=1.0)
    quiet_slow = bench.Row("mock", "get-nft", "g", _result(600, 10), None, server_cpu=1.0, other_cpu=0.02)
    quiet_fast = bench.Row("mock", "get-nft", "g", _result(650, 10), None, server_cpu=1.0, other_cpu=0.04)
    died = bench.Row("mock", "get-nft", "g", _result(0, 0), None, "server exited during the run (exit code 0)",
                     other_cpu=0.0)

    best = bench.quietest([noisy, quiet_slow, died, quiet_fast])

    assert best is quiet_fast
    assert best.note == "quietest of 4"
    assert bench.quietest([noisy]).note == ""


def test_markdown_table_has_a_line_per_row() -> None:
    rows = [bench.Row("mock", "refresh-1", "Immutable refresh POST, 1 item", _result(1234.4, 20), 64 * 2**20,
                      server_cpu=1.0, other_cpu=0.0),
            bench.Row("prism", "refresh-1", "Immutable refresh POST, 1 item", None, None, "did not start")]

    lines = bench.markdown_table(rows).splitlines()

    assert len(lines) == 4
    assert lines[2] == "| mock | Immutable refresh POST, 1 item | 1,234 | 10 | 20 | 0 | 0 | 64 | 1.00 | 0.00 |"
    assert lines[3].startswith("| prism | Immutable refresh POST, 1 item | - | - |")


def test_prism_validating_spec_drops_only_nulls_of_nullable_enums() -> None:
    spec: dict[str, Any] = {"a": {"nullable": True, "type": "string", "enum": ["x", None]},
                            "b": {"enum": ["y", None]},
                            "c": [{"nullable": True, "enum": [None]}]}

    assert bench.drop_nullable_enum_nulls(spec) == {
        "a": {"nullable": True, "type": "string", "enum": ["x"]},
        "b": {"enum": ["y", None]},
        "c": [{"nullable": True, "enum": [None]}],
    }
    assert spec["a"]["enum"] == ["x", None]  # the input is left alone


def test_inprocess_timer_runs_an_operation(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("mockserver_bench_inprocess", ROOT / "bench" / "inprocess.py")
    assert spec is not None
    assert spec.loader is not None
    inprocess = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inprocess)

    assert inprocess.main(["get-nft", "tkn-update", "--requests", "2", "--rounds", "1"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["get-nft", "tkn-update"]
    assert all("us CPU per request" in line for line in lines)


def _bench_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"mockserver_bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_instruction_count_is_the_difference_per_measured_request(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    instructions = _bench_module("instructions")
    # callgrind's count of a whole process: start-up plus 7 instructions per request.
    monkeypatch.setattr(instructions, "_instructions", lambda key, requests: 5_000_000 + 7 * requests)
    monkeypatch.setattr(instructions.shutil, "which", lambda name: "/usr/bin/" + name)

    assert instructions.main(["refresh-1", "--requests", "40"]) == 0

    assert capsys.readouterr().out.split() == ["refresh-1", "7", "instructions", "per", "request"]


def test_instruction_count_serves_the_operation_in_the_measured_process() -> None:
    instructions = _bench_module("instructions")

    assert instructions.main(["--serve", "get-nft", "3"]) == 0  # what callgrind runs; a wrong answer exits


def test_scale_out_is_asked_for_and_its_redis_stays_on_loopback_without_persistence(tmp_path: Path) -> None:
    assert bench.parse_args(["--scale-out"]).scale_out
    assert not bench.parse_args([]).scale_out

    redis = bench.redis_server(tmp_path / "redis.log")

    assert redis.ready_path is None  # not HTTP: ready once its port accepts a connection
    assert redis.command[1:4] == ["--bind", "127.0.0.1", "--port"]
    assert redis.command[-4:] == ["--save", "", "--appendonly", "no"]
    assert not redis.running


FAKE_NPM = """#!{python}
import fcntl, pathlib, sys
prefix = pathlib.Path(sys.argv[sys.argv.index("--prefix") + 1])
with open(prefix / ".install.lock", "a") as lock:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        state = "unlocked"
    except BlockingIOError:
        state = "locked"
with open(prefix / "npm-runs", "a") as runs:
    runs.write(state + "\\n")
binary = prefix / "node_modules" / ".bin" / "tool"
binary.parent.mkdir(parents=True, exist_ok=True)
binary.write_text("")
"""


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bench/.tools in `tmp_path`, and an `npm` on PATH that logs each run there and installs a `tool`."""
    tools, bin_dir = tmp_path / "tools", tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(bench, "TOOLS", tools)
    monkeypatch.setattr(bench, "NODE_MODULES", tools / "node_modules")
    return tools


def test_npm_tool_installs_once_under_a_lock_other_processes_wait_on(fake_npm: Path) -> None:
    # Test workers run in parallel: an install must hold the lock another worker's npm_tool waits on.
    tools = fake_npm
    first, second = bench.npm_tool("some-package", "tool"), bench.npm_tool("some-package", "tool")

    assert first == second == tools / "node_modules" / ".bin" / "tool"
    assert (tools / "npm-runs").read_text() == "locked\n"  # one install, while the lock was held


def test_npm_tool_uses_what_another_process_installed_while_it_waited(fake_npm: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    binary = fake_npm / "node_modules" / ".bin" / "tool"
    real_flock = bench.fcntl.flock

    def flock_after_another_install(fd: Any, operation: int) -> None:
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("")  # the worker holding the lock finished installing while this one waited
        real_flock(fd, operation)

    monkeypatch.setattr(bench.fcntl, "flock", flock_after_another_install)

    assert bench.npm_tool("some-package", "tool") == binary
    assert not (fake_npm / "npm-runs").exists()  # no second install
