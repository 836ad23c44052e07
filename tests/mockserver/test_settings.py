"""Settings: defaults < YAML file < MOCKSERVER_* environment < dotted overrides, and errors that say what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mockserver.apis.rair.settings import RairRateLimitSettings
from mockserver.errors import ConfigError
from mockserver.settings import Settings, load_settings, parse_assignment


class TestDefaults:
    """With nothing configured the server runs on documented defaults."""

    def test_defaults(self) -> None:
        settings = load_settings(environ={})

        assert settings == Settings()
        assert (settings.host, settings.port) == ("127.0.0.1", 8080)
        assert settings.rair.max_files == 2
        assert settings.rair.max_file_bytes == 10 * 1024 * 1024
        assert settings.immutable.refresh_delay == 0
        assert settings.immutable.rate_limit.window == 3600
        assert settings.immutable.rate_limit.strategy == "fixed-window"
        assert settings.tokenization.max_request_bytes == 25 * 1024 * 1024

    def test_environment_of_the_process_is_read_when_none_is_given(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOCKSERVER_RAIR__MAX_FILES", "7")

        assert load_settings().rair.max_files == 7

    def test_variables_without_the_prefix_are_ignored(self) -> None:
        settings = load_settings(environ={"RAIR__MAX_FILES": "7", "MOCKSERVER_": "x", "PATH": "/bin"})

        assert settings.rair.max_files == 2


class TestPresets:
    """`--preset` sits between the defaults and everything a user gives: defaults < preset < YAML < env < flags."""

    def test_dev_is_the_defaults(self) -> None:
        assert load_settings(environ={}, preset="dev") == Settings() == load_settings(environ={})

    def test_realistic_sets_what_the_real_services_do(self) -> None:
        settings = load_settings(environ={}, preset="realistic")

        assert settings.immutable.refresh_delay == 8.0  # Immutable's "within ~8 seconds"
        assert settings.rair.rate_limit == RairRateLimitSettings(enabled=True, limit=500, window=60)
        assert Settings().rair.rate_limit.enabled is False
        # Everything else stays as in dev.
        assert settings.replace(apis={**settings.apis, "immutable": Settings().immutable, "rair": Settings().rair}) \
            == Settings()

    def test_every_layer_beats_the_preset(self, tmp_yaml: Callable[[str], Path]) -> None:
        config = tmp_yaml("immutable:\n  refresh_delay: 3\n")

        assert load_settings(config_file=config, environ={}, preset="realistic").immutable.refresh_delay == 3
        from_env = load_settings(environ={"MOCKSERVER_RAIR__RATE_LIMIT__ENABLED": "false"}, preset="realistic")
        assert from_env.rair.rate_limit.enabled is False
        assert from_env.immutable.refresh_delay == 8.0
        flagged = load_settings(environ={}, preset="realistic", overrides={"rair.rate_limit.limit": 5})
        assert (flagged.rair.rate_limit.enabled, flagged.rair.rate_limit.limit) == (True, 5)

    def test_unknown_preset(self) -> None:
        with pytest.raises(ConfigError, match="unknown preset 'prod'; known: dev, realistic"):
            load_settings(environ={}, preset="prod")


class TestPrecedence:
    """Each source overrides the ones before it, one setting at a time."""

    def test_each_layer_wins_over_the_previous(self, tmp_yaml: Callable[[str], Path]) -> None:
        config = tmp_yaml("rair:\n  max_files: 3\n  max_file_bytes: 1000\nport: 9000\n")
        environ = {"MOCKSERVER_RAIR__MAX_FILES": "4", "MOCKSERVER_PORT": "9001"}

        assert load_settings(environ={}).rair.max_files == 2
        assert load_settings(config_file=config, environ={}).rair.max_files == 3
        assert load_settings(config_file=config, environ=environ).rair.max_files == 4
        layered = load_settings(config_file=config, environ=environ, overrides={"rair.max_files": 5})
        assert layered.rair.max_files == 5
        # Settings that a later layer does not mention keep the earlier layer's value.
        assert layered.rair.max_file_bytes == 1000
        assert layered.port == 9001

    def test_environment_names_nest_by_double_underscore(self) -> None:
        settings = load_settings(environ={
            "MOCKSERVER_IMMUTABLE__RATE_LIMIT__LIMIT": "3",
            "MOCKSERVER_IMMUTABLE__RATE_LIMIT__STRATEGY": "sliding-window",
            "MOCKSERVER_IMMUTABLE__REFRESH_DELAY": "2.5",
            "MOCKSERVER_VALIDATE_RESPONSES": "yes",
        })

        assert settings.immutable.rate_limit.limit == 3
        assert settings.immutable.rate_limit.strategy == "sliding-window"
        assert settings.immutable.refresh_delay == 2.5
        assert settings.validate_responses is True

    def test_yaml_sections_merge_with_overrides_of_the_same_section(self, tmp_yaml: Callable[[str], Path]) -> None:
        config = tmp_yaml("immutable:\n  refresh_delay: 30\n  rate_limit:\n    limit: 9\n")

        settings = load_settings(config_file=config, environ={}, overrides={"immutable.rate_limit.window": "60"})

        assert settings.immutable.refresh_delay == 30
        assert settings.immutable.rate_limit.limit == 9
        assert settings.immutable.rate_limit.window == 60

    def test_empty_yaml_file_means_defaults(self, tmp_yaml: Callable[[str], Path]) -> None:
        assert load_settings(config_file=tmp_yaml(""), environ={}) == Settings()

    @pytest.mark.parametrize(("raw", "expected"), [("none", None), ("", None), ("null", None), ("x.yaml", "x.yaml")])
    def test_optional_fixtures_path(self, raw: str, expected: str | None) -> None:
        assert load_settings(environ={"MOCKSERVER_FIXTURES": raw}).fixtures == expected

    @pytest.mark.parametrize(("raw", "expected"), [("1", True), ("On", True), ("false", False), ("0", False)])
    def test_booleans_from_text(self, raw: str, expected: bool) -> None:
        assert load_settings(environ={}, overrides={"validate_responses": raw}).validate_responses is expected

    def test_whole_float_is_accepted_for_an_integer(self) -> None:
        assert load_settings(environ={}, overrides={"port": 8081.0}).port == 8081

    def test_replace_validates_like_a_fresh_build(self) -> None:
        assert Settings().replace(port=1234).port == 1234
        with pytest.raises(ConfigError, match="port must be between 0 and 65535"):
            Settings().replace(port=-1)


class TestConfigErrors:
    """Unusable settings stop the server with a message naming the setting and the problem."""

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"rair.max_filez": 1}, r"unknown setting rair\.max_filez; known here: max_file_bytes, max_files"),
            ({"colour": "red"}, r"unknown setting colour"),
            ({"rair.max_files": "abc"}, r"rair\.max_files must be a whole number; got 'abc'"),
            ({"rair.max_files": 2.5}, r"rair\.max_files must be a whole number; got 2\.5"),
            ({"rair.max_files": True}, r"rair\.max_files must be a number; got True"),
            ({"immutable.refresh_delay": "soon"}, r"immutable\.refresh_delay must be a number; got 'soon'"),
            ({"immutable.rate_limit.strategy": "token-bucket"},
             r"immutable\.rate_limit\.strategy must be one of fixed-window, sliding-window; got 'token-bucket'"),
            ({"validate_responses": "maybe"}, r"validate_responses must be true or false; got 'maybe'"),
            ({"host": ["a"]}, r"host must be a string"),
            ({"rair": 3}, r"rair is a section; give it a mapping"),
            ({"immutable.rate_limit.limit": 0}, r"immutable\.rate_limit\.limit must be at least 1"),
            ({"immutable.rate_limit.window": 0}, r"immutable\.rate_limit\.window must be at least 1 second"),
            ({"immutable.refresh_delay": -1}, r"immutable\.refresh_delay must not be negative"),
            ({"rair.max_files": -1}, r"rair\.max_files must not be negative"),
            ({"rair.max_file_bytes": 0}, r"rair\.max_file_bytes must be at least 1"),
            ({"tokenization.max_file_bytes": 0}, r"tokenization\.max_file_bytes must be at least 1"),
            ({"tokenization.max_request_bytes": 0}, r"tokenization\.max_request_bytes must be at least 1"),
            ({"port": 70000}, r"port must be between 0 and 65535"),
        ],
    )
    def test_bad_override(self, overrides: dict[str, object], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            load_settings(environ={}, overrides=overrides)

    def test_value_used_as_a_section(self) -> None:
        with pytest.raises(ConfigError, match=r"rair\.max_files\.x: max_files is a value, not a section"):
            load_settings(environ={}, overrides={"rair.max_files": 1, "rair.max_files.x": 2})

    def test_bad_environment_variable_names_the_dotted_setting(self) -> None:
        with pytest.raises(ConfigError, match=r"unknown setting rair\.colour"):
            load_settings(environ={"MOCKSERVER_RAIR__COLOUR": "red"})

    def test_missing_config_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.yaml"
        with pytest.raises(ConfigError, match=rf"cannot read config file {missing}"):
            load_settings(config_file=missing, environ={})

    def test_config_file_that_is_not_yaml(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(ConfigError, match=r"is not valid YAML"):
            load_settings(config_file=tmp_yaml("rair: [unclosed\n"), environ={})

    def test_config_file_that_is_not_a_mapping(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(ConfigError, match=r"must hold a mapping at the top level"):
            load_settings(config_file=tmp_yaml("- a\n- b\n"), environ={})

    def test_unknown_key_in_config_file(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(ConfigError, match=r"unknown setting immutable\.rate_limit\.burst"):
            load_settings(config_file=tmp_yaml("immutable:\n  rate_limit:\n    burst: 3\n"), environ={})


class TestSecretsInConfigErrors:
    def test_a_store_url_of_another_scheme_is_refused_without_showing_its_password(self) -> None:
        with pytest.raises(ConfigError, match="store must be memory://") as caught:
            Settings(store="redsi://:hunter2@127.0.0.1:6379/0")
        assert "redsi://:[redacted]@127.0.0.1" in str(caught.value)
        assert "hunter2" not in str(caught.value)


class TestParseAssignment:
    """`--set NAME=VALUE` splits at the first equals sign."""

    def test_split(self) -> None:
        assert parse_assignment(" rair.max_files = 3 ") == ("rair.max_files", "3")
        assert parse_assignment("host=a=b") == ("host", "a=b")
        assert parse_assignment("fixtures=") == ("fixtures", "")

    @pytest.mark.parametrize("text", ["rair.max_files", "=3", "  =3"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(ConfigError, match="--set takes NAME=VALUE"):
            parse_assignment(text)


class TestSettingsReachTheServer:
    """Settings built from the environment are the ones the running app enforces."""

    @pytest.mark.anyio
    async def test_limit_from_environment_shows_in_headers(self) -> None:
        from mockserver.clock import ManualClock
        from mockserver.web import create_app
        from tests.mockserver.support import IMX_REFRESH, ApiClient, imx_headers, refresh_body

        settings = load_settings(environ={"MOCKSERVER_IMMUTABLE__RATE_LIMIT__LIMIT": "2",
                                          "MOCKSERVER_IMMUTABLE__RATE_LIMIT__WINDOW": "90"})

        async with ApiClient(create_app(settings, clock=ManualClock())) as client:
            first = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            second = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            third = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert first.headers["imx-refreshes-limit"] == "2"
        assert first.headers["imx-refresh-limit-reset"] == "2026-01-01 00:01:30 +0000 UTC"
        assert [r.status_code for r in (first, second, third)] == [202, 202, 429]
        assert third.headers["Retry-After"] == "90"


class TestAdminAllowedHosts:
    """`admin.allowed_hosts`: the names the admin API and the page answer to beyond loopback (test_allowed_hosts.py)."""

    def test_none_by_default_and_each_layer_wins(self, tmp_yaml: Callable[[str], Path]) -> None:
        config = tmp_yaml("admin:\n  allowed_hosts: [from-yaml.example, '*.yaml.example']\n")
        environ = {"MOCKSERVER_ADMIN__ALLOWED_HOSTS": "from-env.example,[::7]"}

        assert load_settings(environ={}).admin.allowed_hosts == ()
        assert load_settings(config_file=config, environ={}).admin.allowed_hosts == ("from-yaml.example",
                                                                                     "*.yaml.example")
        assert load_settings(config_file=config, environ=environ).admin.allowed_hosts == ("from-env.example",
                                                                                          "[::7]")
        flags = load_settings(config_file=config, environ=environ, overrides={"admin.allowed_hosts": "*"})
        assert flags.admin.allowed_hosts == ("*",)

    @pytest.mark.parametrize("entry", ["mock.example:8080", "http://mock.example", "mock.example/", "*mock.example",
                                       "mock.*.example", "[::1]:8080", "", "a b"])
    def test_an_entry_that_is_not_a_host_is_refused(self, entry: str) -> None:
        with pytest.raises(ConfigError, match=r"admin\.allowed_hosts entries are a host name or address without "
                                              r"port"):
            load_settings(environ={}, overrides={"admin.allowed_hosts": [entry]})
