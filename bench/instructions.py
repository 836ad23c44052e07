"""Machine instructions per request through the mock's ASGI app, counted by valgrind's callgrind.

CPU time swings by 15% or more on a shared virtual machine; instruction counts do not (a run differs from the next
by about 0.2%, from hash randomisation: `PYTHONHASHSEED=0` steadies it further). So this is the measure to compare
two versions of the request path by, one change at a time:

    python bench/instructions.py refresh-1 tkn-update
    python bench/instructions.py refresh-1 --requests 2000

Each operation runs twice under callgrind, in a fresh process on `bench/inprocess.py`'s app and requests: once
with 100 requests and once with 100 plus `--requests`; the difference, divided by `--requests`, is what one
request costs, without the start-up both runs share. Needs `valgrind` (Debian: `apt install valgrind`); each
operation takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import operations  # bench.py beside this script

WARM = 100


def _serve(key: str, requests: int) -> None:
    """The measured process: one app, `requests` requests of operation `key`."""
    from inprocess import call, new_app

    op = {op.key: op for op in operations()}[key]
    app = new_app(validate_responses=False)

    async def run() -> None:
        for _ in range(requests):
            status = await call(app, op)
            if status != op.expect:
                raise SystemExit(f"{op.key}: answered {status}, expected {op.expect}")

    gc.collect()  # as `mockserver serve` (and inprocess.py) do: what startup built is kept from the collector
    gc.freeze()
    try:
        asyncio.run(run())
    finally:
        gc.unfreeze()


def _instructions(key: str, requests: int) -> int:
    """Instructions callgrind counted in a whole process serving `requests` requests."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--serve", key, str(requests)],
        capture_output=True, text=True, check=True)
    counted = re.search(r"Collected : (\d+)", run.stderr)
    if counted is None:
        raise SystemExit(f"callgrind printed no count:\n{run.stderr[-2000:]}")
    return int(counted[1])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve"]:
        _serve(argv[1], int(argv[2]))
        return 0
    ops = [op.key for op in operations()]
    parser = argparse.ArgumentParser(prog="bench/instructions.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="*", metavar="OP", help=f"default all: {', '.join(ops)}")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per operation (default 1000)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.operations) - set(ops))
    if unknown:
        parser.error(f"unknown operation(s) {', '.join(unknown)}; choose from {', '.join(ops)}")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt install valgrind)")
    for key in args.operations or ops:
        requests = max(args.requests // 50, 10) if key == "refresh-250" else args.requests
        per_request = (_instructions(key, WARM + requests) - _instructions(key, WARM)) / requests
        print(f"{key:<12} {per_request:12,.0f} instructions per request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
