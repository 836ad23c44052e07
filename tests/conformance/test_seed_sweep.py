"""`conformance run --api all --allow-destructive` is clean on the mock for every seed from 0 to 9.

A check that fails a correct server for some seeds (as `body_limits` once did for 3, 4, 5, 6 and 8) teaches
users to ignore the suite. Five examples per operation keep the ten runs short; each run gets a fresh mock, since
a destructive run spends the refresh quota. The read-only runs of the same seeds are
`test_non_destructive.py`'s, which also require exit 0, at more examples and in a process of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from tests.conformance.conftest import mock_app, serve

SWEEP_EXAMPLES = "5"


@pytest.mark.parametrize("seed", range(10))
def test_clean_mock_passes_every_seed(seed: int, tmp_path: Path) -> None:
    args = ["run", "--api", "all", "--max-examples", SWEEP_EXAMPLES, "--seed", str(seed),
            "--reproducers-dir", str(tmp_path)]
    with serve(mock_app()) as url:
        outcome = CliRunner().invoke(main, [*args, "--base-url", url, "--allow-destructive"])
    assert outcome.exit_code == 0, outcome.output
    assert " 0 failed" in outcome.output
