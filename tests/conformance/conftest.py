"""Servers for the self-tests: the mock (or a deliberately broken variant of it) on a free loopback port.

The suite tests servers over HTTP only, so each test gets a real uvicorn server, run in a thread of this process,
speaking HTTP with the protocol `mockserver serve` uses (its head limits and timeouts), so the suite meets the
mock as users run it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from conformance.results import RunResult, Status
from conformance.runner import RunConfig, run
from conformance.target import load_target
from mockserver.settings import ClientLimitSettings, load_settings
from mockserver.web import create_app
from mockserver.web.headerlimits import head_limit_protocol

App = Callable[..., Any]


@contextlib.contextmanager
def serve(app: App, *, date_header: bool = True) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port for the duration of the block; yields its base URL.

    `date_header=False`: uvicorn adds no `Date` (for an app that sends its own).
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off",
                            http=head_limit_protocol(ClientLimitSettings()), date_header=date_header)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def mock_app(**overrides: Any) -> Any:
    """A fresh mock app; `overrides` are dotted settings such as `immutable.refresh_delay`."""
    return create_app(load_settings(environ={}, overrides=overrides))


def run_suite(base_url: str, *apis: Any, destructive: bool = False, examples: int = 10, seed: int = 0,
              **target: Any) -> RunResult:
    loaded = load_target()
    for section, values in target.items():
        loaded = _replace(loaded, section, values)
    return run(RunConfig(base_url=base_url, target=loaded, apis=tuple(apis), max_examples=examples, seed=seed,
                         allow_destructive=destructive))


def _replace(target: Any, section: str, values: dict[str, Any]) -> Any:
    import dataclasses

    changed = dataclasses.replace(target.sections[section], **values)
    return dataclasses.replace(target, sections={**target.sections, section: changed})


def failed_checks(result: RunResult) -> set[tuple[str, str]]:
    """(operationId, check) of every failed result."""
    return {(r.operation.operation_id, r.check) for r in result.results if r.status is Status.FAILED}


@pytest.fixture
def mock_url() -> Iterator[str]:
    with serve(mock_app()) as url:
        yield url
