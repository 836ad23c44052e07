"""`mockserver proxy`'s command line: what it refuses before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mockserver.cli import main


@pytest.mark.parametrize("upstream", ["ftp://api.example.com", "api.sandbox.immutable.com", "https://",
                                      "https://api.example.com/?key=1"])
def test_an_upstream_that_is_no_http_url_is_a_usage_error(upstream: str) -> None:
    result = CliRunner().invoke(main, ["proxy", "--upstream", upstream])
    assert result.exit_code == 2
    assert "must be an http:// or https:// URL" in result.output


def test_a_recording_directory_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["proxy", "--upstream", "https://api.sandbox.immutable.com",
                                       "--record", str(blocker / "recording")])
    assert result.exit_code == 1
    assert "cannot create the recording directory" in result.output
