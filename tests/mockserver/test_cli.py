"""The `mockserver` command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mockserver import cli
from mockserver.web import MockApp
from tests.mockserver.support import tokenization_service


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace uvicorn.run so `serve` returns at once, recording what it would have served."""
    calls: dict[str, Any] = {}

    def fake_run(app: MockApp, **kwargs: Any) -> None:
        calls["app"] = app
        calls.update(kwargs)

    monkeypatch.setattr(cli.uvicorn, "run", fake_run)
    # Not in the test process: they would outlive the test.
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)
    monkeypatch.setattr(cli, "_lean_log_records", lambda: None)
    return calls


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
