"""The `mockserver` command line."""

from __future__ import annotations

import importlib.metadata
import logging
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from mockserver import cli
from tests.mockserver.support import stub_server, tokenization_service


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the server so `serve` returns at once, recording what it would have served."""
    return stub_server(monkeypatch)


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli.main, list(args), env=env or {}, catch_exceptions=False)


class TestServe:
    """`mockserver serve` turns flags, files and environment into the settings it serves with."""

    def test_defaults_serve_loopback_8080(self, served: dict[str, Any]) -> None:
        result = invoke("serve")
        assert result.exit_code == 0
        assert (served["host"], served["port"]) == ("127.0.0.1", 8080)
        assert "http://127.0.0.1:8080/openapi/immutable.json" in result.output

    def test_flags_beat_config_file_and_environment(self, served: dict[str, Any], tmp_path: Path) -> None:
        config = tmp_path / "mock.yaml"
        config.write_text("port: 9000\nimmutable:\n  rate_limit: {limit: 3, window: 60}\n")
        result = invoke("serve", "--config", str(config), "--port", "9100", "--set", "immutable.rate_limit.window=30",
                        env={"MOCKSERVER_IMMUTABLE__RATE_LIMIT__LIMIT": "5"})
        assert result.exit_code == 0
        settings = served["app"].settings
        assert served["port"] == 9100
        assert settings.immutable.rate_limit.limit == 5  # env beats the file
        assert settings.immutable.rate_limit.window == 30  # --set beats the file

    def test_preset_realistic_under_flags(self, served: dict[str, Any]) -> None:
        result = invoke("serve", "--preset", "realistic", "--set", "rair.rate_limit.limit=20")

        assert result.exit_code == 0
        settings = served["app"].settings
        assert settings.immutable.refresh_delay == 8.0
        assert (settings.rair.rate_limit.enabled, settings.rair.rate_limit.limit) == (True, 20)

    def test_preset_dev_is_the_default(self, served: dict[str, Any]) -> None:
        assert invoke("serve", "--preset", "dev").exit_code == 0
        dev = served["app"].settings
        assert invoke("serve").exit_code == 0
        assert served["app"].settings == dev
        assert dev.immutable.refresh_delay == 0
        assert dev.rair.rate_limit.enabled is False

    def test_unknown_preset_is_a_usage_error(self, served: dict[str, Any]) -> None:
        result = CliRunner().invoke(cli.main, ["serve", "--preset", "prod"], env={})

        assert result.exit_code == 2
        assert "'prod' is not one of 'dev', 'realistic'" in result.output

    def test_access_log_is_on_by_default(self, served: dict[str, Any]) -> None:
        assert invoke("serve").exit_code == 0
        assert served["access_log"] is True

    def test_access_line_is_uvicorns_without_colours(self, served: dict[str, Any]) -> None:
        assert invoke("serve").exit_code == 0
        access = served["log_config"]["formatters"]["access"]
        assert set(access) == {"format"}  # plain logging.Formatter: no record copied to be coloured
        formatter = logging.Formatter(access["format"])
        # The record uvicorn's HTTP protocol logs for each response.
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:52770", "GET", "/v2/admin/token/1?x=1", "1.1", 200), None)
        assert formatter.format(record) == 'INFO:     127.0.0.1:52770 - "GET /v2/admin/token/1?x=1 HTTP/1.1" 200'

    @pytest.mark.parametrize("args", [("--no-access-log",), ("--set", "access_log=false")])
    def test_access_log_can_be_turned_off(self, served: dict[str, Any], args: tuple[str, ...]) -> None:
        assert invoke("serve", *args).exit_code == 0
        assert served["access_log"] is False
        assert served["app"].settings.access_log is False

    def test_bad_setting_is_a_usage_error_naming_it(self, served: dict[str, Any]) -> None:
        result = invoke("serve", "--set", "immutable.rate_limit.limit=lots")
        assert result.exit_code == 1
        assert "immutable.rate_limit.limit must be a whole number" in result.output
        assert "app" not in served

    def test_unknown_setting_is_refused(self, served: dict[str, Any]) -> None:
        result = invoke("serve", "--set", "immutable.rate_limit.burst=3")
        assert result.exit_code == 1
        assert "unknown setting immutable.rate_limit.burst" in result.output

    def test_fixtures_file_replaces_the_builtin_data(self, served: dict[str, Any], tmp_path: Path) -> None:
        fixtures = tmp_path / "fixtures.yaml"
        fixtures.write_text("tokenization:\n  bearer_tokens: [only-this-one]\n")
        assert invoke("serve", "--fixtures", str(fixtures)).exit_code == 0
        tokenization = tokenization_service(served["app"].services).records
        assert tokenization.bearer_known("only-this-one")
        assert not tokenization.bearer_known("tkn-admin-token")

    def test_an_unknown_store_url_parameter_is_a_clean_error(self, served: dict[str, Any]) -> None:
        pytest.importorskip("redis")
        result = invoke("serve", "--store", "redis://:hunter2@127.0.0.1:1/0?foo=bar")
        assert result.exit_code == 1
        assert "store 'redis://:[redacted]@127.0.0.1:1/0?foo=bar' is not usable" in result.output
        assert "foo" in result.output
        assert "hunter2" not in result.output
        assert result.exc_info is None or result.exc_info[0] is SystemExit  # no traceback

    def test_missing_fixtures_file_is_reported(self, served: dict[str, Any], tmp_path: Path) -> None:
        result = invoke("serve", "--fixtures", str(tmp_path / "nope.yaml"))
        assert result.exit_code == 1
        assert "cannot read fixtures file" in result.output


class TestConventions:
    """-h and --help everywhere, --version, exit codes and the MOCKSERVER_* variables in the help."""

    @pytest.mark.parametrize("args", [["-h"], ["--help"], ["serve", "-h"], ["fixtures", "-h"]])
    def test_help_on_every_command_lists_exit_codes(self, args: list[str]) -> None:
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "Exit codes:" in result.output
        assert "2  bad usage (unknown option or value)" in result.output
        if args[0] != "fixtures":
            assert "1  could not start: bad settings, fixtures or store, a port in use" in result.output

    def test_serve_help_names_the_environment_variables(self) -> None:
        text = invoke("serve", "-h").output
        assert "MOCKSERVER_* environment variable" in text
        assert "MOCKSERVER_FAULTS__DEFAULT__LATENCY_MS=200" in text

    def test_version_comes_from_the_package_metadata(self) -> None:
        result = invoke("--version")
        assert result.exit_code == 0
        assert result.output == f"mockserver, version {importlib.metadata.version('token-metadata-mock')}\n"


class TestListening:
    """The banner only once the port is bound; a taken port is one line and exit 1."""

    def test_a_taken_port_is_one_clear_line_and_exit_1(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(cli.gc, "freeze", lambda: None)
        monkeypatch.setattr(cli, "_lean_log_records", lambda: None)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = invoke("serve", "--port", str(port))
        assert result.exit_code == 1
        assert result.output == (f"Error: port {port} is already in use on 127.0.0.1: stop what listens there or "
                                 "pick another with --port\n")

    @pytest.mark.network
    @pytest.mark.timeout(60)
    def test_the_banner_comes_once_the_port_answers(self) -> None:
        process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-access-log"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert process.stderr is not None
        try:
            banner = process.stderr.readline()
            found = re.fullmatch(r"mockserver \S+ on (http://127\.0\.0\.1:(\d+))\n", banner)
            assert found is not None, banner
            assert found[2] != "0", "the banner names the port the socket was bound to"
            # No wait, no retry: the socket listens before the banner, so the request waits in its backlog.
            assert httpx.get(found[1] + "/__mock/health", timeout=30).status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
