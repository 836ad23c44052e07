"""CPU time per request through the mock's ASGI app, with no sockets and no HTTP client.

Steadier than the load benchmark on a shared machine (it counts this process's CPU time, not wall time), and
the quickest way to see what a change to the request path costs or saves:

    python bench/inprocess.py                       # every operation, response validation off
    python bench/inprocess.py --validate-responses refresh-1 get-nft
    python bench/inprocess.py --redis               # also the Redis store, on a redis-server it starts

Each operation gets a fresh app (state grows as requests are served), 20 unmeasured requests, then the best
of `--rounds` rounds of `--requests` requests. The refresh of 250 items runs a fiftieth as many.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import MOCK_RATE_LIMIT, Operation, operations, redis_server  # bench.py beside this script


def scope_for(op: Operation) -> dict[str, Any]:
    headers = [(k.lower().encode(), v.encode()) for k, v in op.headers.items()]
    headers.append((b"host", b"127.0.0.1:8080"))
    if op.body is not None:
        headers.append((b"content-length", str(len(op.body)).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": op.method,
            "scheme": "http", "path": op.path, "raw_path": op.path.encode(), "query_string": b"", "root_path": "",
            "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}


async def call(app: Any, op: Operation) -> int:
    """One request through the app; its status."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # nothing more: wait as a client that keeps the connection open would
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": op.body or b"", "more_body": False}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(op), receive, send)
    return status


_APPS = itertools.count()


def new_app(validate_responses: bool, store: str | None = None) -> Any:
    """A fresh app; on a Redis `store`, under a key prefix of its own, so it starts from the seed."""
    from mockserver.settings import load_settings
    from mockserver.web import create_app

    overrides: dict[str, Any] = {"immutable.rate_limit.limit": MOCK_RATE_LIMIT,
                                 "validate_responses": validate_responses}
    if store is not None:
        overrides |= {"store": store, "store_prefix": f"bench-inprocess-{next(_APPS)}:"}
    return create_app(load_settings(overrides=overrides))


async def measure(op: Operation, *, requests: int, rounds: int, validate_responses: bool,
                  store: str | None = None) -> float:
    """The best CPU microseconds per request over `rounds` rounds (this process's CPU: Redis's own is not in it)."""
    app = new_app(validate_responses, store)
    # As `mockserver serve` does once started: what startup built is kept out of the collector's way.
    gc.collect()
    gc.freeze()
    try:
        return await _best(app, op, requests=requests, rounds=rounds)
    finally:
        gc.unfreeze()


async def _best(app: Any, op: Operation, *, requests: int, rounds: int) -> float:
    for _ in range(20):
        status = await call(app, op)
    if status != op.expect:
        raise SystemExit(f"{op.key}: answered {status}, expected {op.expect}")
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(requests):
            await call(app, op)
        best = min(best, (time.process_time() - start) / requests * 1e6)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    ops = {op.key: op for op in operations()}
    parser = argparse.ArgumentParser(prog="bench/inprocess.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="*", metavar="OP",
                        help=f"operations to time (default all: {', '.join(ops)})")
    parser.add_argument("--validate-responses", action="store_true")
    parser.add_argument("--requests", type=int, default=300, help="requests per round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best counts (default 5)")
    parser.add_argument("--redis", action="store_true",
                        help="also time each operation on the Redis store (a redis-server started and stopped here)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.operations) - set(ops))
    if unknown:
        parser.error(f"unknown operation(s) {', '.join(unknown)}; choose from {', '.join(ops)}")
    with tempfile.TemporaryDirectory(prefix="mockserver-inprocess-") as scratch:
        redis = redis_server(Path(scratch) / "redis.log") if args.redis else None
        if redis is not None:
            redis.start()
        try:
            for key in args.operations or list(ops):
                op = ops[key]
                requests = max(args.requests // 50, 2) if key == "refresh-250" else args.requests
                us = asyncio.run(measure(op, requests=requests, rounds=args.rounds,
                                         validate_responses=args.validate_responses))
                line = f"{key:<12} {us:9,.1f} us CPU per request  (at most ~{1e6 / us:,.0f} req/s on one core)"
                if redis is not None:
                    on_redis = asyncio.run(measure(op, requests=requests, rounds=args.rounds,
                                                   validate_responses=args.validate_responses,
                                                   store=f"redis://127.0.0.1:{redis.port}/0"))
                    line += f"; Redis store {on_redis:9,.1f} us ({on_redis / us:.1f}x memory)"
                print(line)
        finally:
            if redis is not None:
                redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
