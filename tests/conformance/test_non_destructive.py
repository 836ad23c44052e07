"""Without --allow-destructive the suite changes nothing on a correct server: no state, no quota, no 2xx write."""

from __future__ import annotations

import httpx
import pytest

from conformance.runner import DEFAULT_MAX_EXAMPLES
from mockserver.clock import ManualClock
from mockserver.journal import Journal
from mockserver.settings import load_settings
from mockserver.web import create_app
from tests.conformance.conftest import failed_checks, run_suite, serve

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _snapshot(url: str) -> tuple[bytes, bytes]:
    return httpx.get(url + "/__mock/state").content, httpx.get(url + "/__mock/rate-limits").content


# Seed 3 once sent 54 accepted RAIR updates; seed 0 is the tests' seed.
@pytest.mark.parametrize("seed", [0, 3])
def test_whole_read_only_suite_changes_nothing(seed: int) -> None:
    # A still clock: the quota's reset time is only byte-identical if time does not move.
    app = create_app(load_settings(environ={}), clock=ManualClock())
    # Room for every request of the run, so that no early write scrolls out of the journal.
    app.services.journal = Journal(capacity=100_000)
    with serve(app) as url:
        before = _snapshot(url)
        result = run_suite(url, "rair", "immutable", "tokenization", examples=DEFAULT_MAX_EXAMPLES, seed=seed)
        after = _snapshot(url)
        entries = httpx.get(url + "/__mock/journal").json()["entries"]
    writes = [e for e in entries if e["method"] in WRITES and e["api"] is not None]
    accepted = [f"{e['method']} {e['path']} -> {e['status']}" for e in writes if 200 <= e["status"] < 300]
    assert not accepted, accepted[:5]
    assert len(writes) > 100, "the run sent (rejected) writes"
    assert before[0] == after[0], "GET /__mock/state changed"
    assert before[1] == after[1], "GET /__mock/rate-limits changed"
    assert not failed_checks(result)
