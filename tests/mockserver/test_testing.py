"""`mockserver.testing`: the mock as a Python object and as pytest fixtures, in process and on a real port."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.clock import ManualClock, SteppingClock
from mockserver.errors import ConfigError
from mockserver.fixtures import load_fixtures
from mockserver.testing import IN_PROCESS_BASE_URL, MockServer
from tests.mockserver.redis_server import REDIS_SERVER, start_redis_server
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    TKN_PATH,
    check_against_spec,
    imx_headers,
    refresh_body,
    tkn_headers,
    tokenization_service,
)

pytest_plugins = ["pytester"]

REFRESH = "RefreshNFTMetadataByTokenID"


@pytest.fixture
def mock() -> Any:
    with MockServer() as server:
        yield server


def refresh(client: httpx.Client, *token_ids: str, **metadata: Any) -> httpx.Response:
    return client.post(IMX_REFRESH, json=refresh_body(*token_ids, **metadata), headers=imx_headers())


class TestInProcess:
    def test_serves_the_builtin_fixtures_without_a_socket(self, mock: MockServer) -> None:
        with mock.client() as client:
            response = client.get(f"{IMX_BASE}/1")

        check_against_spec(response)
        assert mock.base_url == IN_PROCESS_BASE_URL == str(response.url.copy_with(path="/"))[:-1]
        assert response.json()["result"]["name"] == "Sword"
        assert repr(mock).startswith("MockServer(in-process, base_url='http://mockserver.test', seed=None, ")
        assert repr(mock).endswith(", running)")

    def test_journal_filters_and_shows_the_parsed_body(self, mock: MockServer) -> None:
        with mock.client() as client:
            refresh(client, "1", "2")
            client.get(f"{IMX_BASE}/1")
            client.get(TKN_PATH, headers=tkn_headers())

        [entry] = mock.journal(operation=REFRESH)
        assert [item["token_id"] for item in entry.request_body["nft_metadata"]] == ["1", "2"]
        assert entry.request_headers["x-immutable-api-key"] == "[redacted]"
        assert [e.operation for e in mock.journal(api="immutable")] == [REFRESH, "GetNFT"]
        assert [e.api for e in mock.journal(status=200, method="GET")] == ["immutable", "tokenization"]
        assert len(mock.journal(limit=1)) == 1
        mock.clear_journal()
        assert mock.journal() == []

    def test_reset_forgets_changes_and_takes_new_fixtures(self, mock: MockServer, tmp_path: Path) -> None:
        with mock.client() as client:
            refresh(client, "1", name="Changed")
            assert client.get(f"{IMX_BASE}/1").json()["result"]["name"] == "Changed"
            mock.reset()
            assert mock.journal() == [], "reset empties the journal"
            assert client.get(f"{IMX_BASE}/1").json()["result"]["name"] == "Sword"

            mock.reset({"tokenization": {"bearer_tokens": ["only"]}})
            assert client.get(TKN_PATH, headers=tkn_headers()).status_code == 401
            assert client.get(TKN_PATH, headers=tkn_headers("only")).status_code == 404

    def test_set_limit(self, mock: MockServer) -> None:
        mock.set_limit(2, window=60, strategy="sliding-window", cost="item")

        with mock.client() as client:
            first, second = refresh(client, "1"), refresh(client, "2", "3")

        assert (first.status_code, second.status_code) == (202, 429)
        assert first.headers["imx-refreshes-limit"] == "2"
        limit = mock.settings.immutable.rate_limit
        assert (limit.limit, limit.window, limit.strategy, limit.cost) == (2, 60, "sliding-window", "item")
        mock.set_limit(5)
        assert mock.settings.immutable.rate_limit.window == 60, "what set_limit is not given stays"

    def test_force_status_and_clear_faults(self, mock: MockServer) -> None:
        mock.force_status("immutable", REFRESH, 503)

        with mock.client() as client:
            forced = refresh(client, "1")
            untouched = client.get(f"{IMX_BASE}/1")
            mock.force_status("immutable", "GetNFT", 500, rate=0.0)
            never = client.get(f"{IMX_BASE}/1")
            mock.clear_faults()
            cleared = refresh(client, "1")

        assert forced.status_code == 503
        assert set(forced.json()) == {"message", "link", "trace_id", "code", "details"}
        assert (untouched.status_code, never.status_code, cleared.status_code) == (200, 200, 202)
        assert not any(fault.active for fault in mock.settings.faults.operations.values())

    @pytest.mark.parametrize(("api", "operation", "message"), [
        ("imx", REFRESH, "unknown API 'imx'; known: rair, immutable, tokenization"),
        ("immutable", "refresh", "immutable has no operation 'refresh'; its operations: GetMetadata, GetNFT, "),
    ])
    def test_force_status_refuses_typos(self, mock: MockServer, api: str, operation: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            mock.force_status(api, operation, 500)

    def test_force_status_status_is_checked_by_the_settings(self, mock: MockServer) -> None:
        with pytest.raises(ConfigError, match=r"faults\.error_status must be a 4xx or 5xx status"):
            mock.force_status("immutable", REFRESH, 200)

    def test_update_settings_takes_dotted_and_nested_keys(self, mock: MockServer) -> None:
        settings = mock.update_settings({"immutable.refresh_delay": 3, "rair": {"max_file_bytes": 10},
                                         "immutable": {"rate_limit.limit": 4}})

        assert settings is mock.settings
        assert (settings.immutable.refresh_delay, settings.rair.max_file_bytes) == (3, 10)
        assert settings.immutable.rate_limit.limit == 4
        with pytest.raises(ConfigError, match=r"unknown setting immutable\.delay"):
            mock.update_settings({"immutable.delay": 1})
        with pytest.raises(ConfigError, match="port cannot change while the server runs"):
            mock.update_settings({"port": 1})

    def test_advance_moves_a_manual_clock(self) -> None:
        with MockServer(manual_clock=True, settings={"immutable.refresh_delay": 5}) as mock, mock.client() as client:
            refresh(client, "1", name="Later")
            before = client.get(f"{IMX_BASE}/1").json()["result"]["name"]
            mock.advance(5)
            after = client.get(f"{IMX_BASE}/1").json()["result"]

        assert isinstance(mock.clock, ManualClock)
        assert (before, after["name"], after["updated_at"]) == ("Sword", "Later", "2026-01-01T00:00:05.000000Z")

    def test_advance_without_a_manual_clock_says_how_to_get_one(self, mock: MockServer) -> None:
        with pytest.raises(RuntimeError, match=r"MockServer\(manual_clock=True\)"):
            mock.advance(1)

    def test_seed_gives_the_seeded_clock_and_repeatable_answers(self) -> None:
        def answers() -> list[str]:
            with MockServer(seed=11) as mock, mock.client() as client:
                assert isinstance(mock.clock, SteppingClock)
                return [refresh(client, "1").text, client.get(f"{IMX_BASE}/404").text]

        assert answers() == answers()

    def test_fixtures_from_a_file_a_mapping_or_an_object(self, tmp_path: Path) -> None:
        path = tmp_path / "f.yaml"
        path.write_text("tokenization:\n  bearer_tokens: [from-file]\n")
        for fixtures, bearer in [(path, "from-file"), (str(path), "from-file"), (load_fixtures(path), "from-file"),
                                 ({"tokenization": {"bearer_tokens": ["mapped"]}}, "mapped")]:
            with MockServer(fixtures=fixtures) as mock:
                assert tokenization_service(mock.services).records.bearer_known(bearer)
                assert not tokenization_service(mock.services).records.bearer_known("tkn-admin-token")

    def test_settings_object_and_fixtures_setting(self, tmp_path: Path) -> None:
        path = tmp_path / "f.yaml"
        path.write_text("tokenization:\n  bearer_tokens: [setting]\n")
        with MockServer(settings={"fixtures": str(path)}, seed=4) as mock:
            assert tokenization_service(mock.services).records.bearer_known("setting")
            assert mock.settings.seed == 4

    def test_the_environment_does_not_reach_a_test_server(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOCKSERVER_IMMUTABLE__REFRESH_DELAY", "9")
        with MockServer() as mock:
            assert mock.settings.immutable.refresh_delay == 0

    def test_keyword_only_and_clock_choices_are_exclusive(self) -> None:
        with pytest.raises(TypeError):
            MockServer(True)  # type: ignore[misc]
        with pytest.raises(ValueError, match="not both"):
            MockServer(manual_clock=True, clock=ManualClock())

    def test_transport_outlives_a_closed_client_and_stop_closes_clients(self) -> None:
        mock = MockServer()
        with httpx.Client(base_url=mock.base_url, transport=mock.transport) as client:
            assert client.get(f"{IMX_BASE}/1").status_code == 200
        with httpx.Client(base_url=mock.base_url, transport=mock.transport) as client:
            assert client.get(f"{IMX_BASE}/2").status_code == 200
        kept = mock.client()
        mock.stop()
        mock.stop()

        assert kept.is_closed
        assert repr(mock).endswith(", stopped)")
        with pytest.raises(RuntimeError, match="stopped"):
            mock.start()

    def test_its_client_reaches_the_admin_api_by_the_in_process_name(self, mock: MockServer) -> None:
        # The admin API answers only to allowed Host names; in process, that of the base URL is one.
        with mock.client() as client:
            refresh(client, "1")
            journal = client.get("/__mock/journal")
            reset = client.post("/__mock/reset", headers={"X-Mock-Admin": "1"})

        assert journal.status_code == 200
        assert [entry["operation"] for entry in journal.json()["entries"]] == [REFRESH]
        assert reset.status_code == 204
        assert mock.journal() == []

    @pytest.mark.anyio
    async def test_async_client(self, mock: MockServer, anyio_backend: str) -> None:
        async with mock.async_client() as client:
            response = await client.get(f"{IMX_BASE}/1")
        assert response.json()["result"]["token_id"] == "1"


@pytest.mark.network
class TestOnAPort:
    def test_any_http_client_reaches_it(self) -> None:
        with MockServer(http=True) as mock:
            response = httpx.get(f"{mock.base_url}{IMX_BASE}/1", timeout=10)
            with mock.client() as client:
                accepted = refresh(client, "2")

        assert mock.base_url.startswith("http://127.0.0.1:")
        assert response.json()["result"]["name"] == "Sword"
        assert "date" in response.headers
        assert accepted.status_code == 202
        assert [e.operation for e in mock.journal()] == ["GetNFT", REFRESH]

    def test_seeded_server_sends_no_wall_clock_date(self) -> None:
        with MockServer(http=True, seed=1) as mock, mock.client() as client:
            response = client.get(f"{IMX_BASE}/1")
        assert "date" not in response.headers

    def test_base_url_is_known_before_start_and_stop_frees_the_port(self) -> None:
        mock = MockServer(http=True)
        assert repr(mock).endswith(", not started)")
        port = int(mock.base_url.rsplit(":", 1)[1])
        with mock:
            assert httpx.get(f"{mock.base_url}{IMX_BASE}/1", timeout=10).status_code == 200
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", port))
        assert repr(mock).endswith(", stopped)")

    def test_a_server_that_cannot_start_says_so(self, monkeypatch: pytest.MonkeyPatch) -> None:
        mock = MockServer(http=True)

        async def fail(*args: Any, **kwargs: Any) -> None:
            raise OSError("no luck")

        monkeypatch.setattr("uvicorn.Server.startup", fail)
        with pytest.raises(RuntimeError, match="did not start: OSError\\('no luck'\\)"):
            mock.start()

    @pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not on PATH: apt-get install redis-server")
    def test_a_server_whose_store_does_not_answer_is_not_started(self) -> None:
        pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[redis]'")
        redis_server = start_redis_server()
        mock = MockServer(http=True, settings={"store": redis_server.url()})
        redis_server.stop()  # between building the server and serving: it listens, but cannot answer

        with pytest.raises(RuntimeError, match=r"not healthy \(503\).*unavailable"):
            mock.start()
        assert repr(mock).endswith(", stopped)")


EXAMPLE = '''
    import httpx
    import pytest


    class my_app:
        """Stands in for the team's code: it refreshes through whatever transport it is given."""

        @staticmethod
        def refresh(base_url, transport=None):
            with httpx.Client(base_url=base_url, transport=transport) as client:
                client.post(
                    "/v1/chains/imtbl-zkevm-testnet/collections/0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
                    "/nfts/refresh-metadata",
                    headers={"x-immutable-api-key": "sk_imapik-test-alpha-refresh"},
                    json={"nft_metadata": [{"token_id": t, "name": None, "description": None, "image": None,
                                            "external_url": None, "animation_url": None, "youtube_url": None,
                                            "attributes": None} for t in ("1", "2")]},
                ).raise_for_status()


    def test_my_app_refreshes_once(mock_server):
        my_app.refresh(base_url=mock_server.base_url, transport=mock_server.transport)
        [entry] = mock_server.journal(operation="RefreshNFTMetadataByTokenID")
        assert [i["token_id"] for i in entry.request_body["nft_metadata"]] == ["1", "2"]


    def test_over_a_real_port(mock_server_http):
        my_app.refresh(base_url=mock_server_http.base_url)
        assert len(mock_server_http.journal()) == 1


    @pytest.mark.mock_server(settings={"immutable.rate_limit.limit": 1})
    def test_marker(mock_server):
        assert mock_server.settings.immutable.rate_limit.limit == 1


    def test_fresh_server_per_test(mock_server):
        assert mock_server.journal() == []
'''


@pytest.fixture
def team_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project that loads only this plugin (whether or not its entry point is installed)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


class TestPlugin:
    def test_the_documented_example_runs(self, team_suite: pytest.Pytester) -> None:
        team_suite.makepyfile(test_team=textwrap.dedent(EXAMPLE))
        result = team_suite.runpytest("-p", "mockserver.testing")
        result.assert_outcomes(passed=4)

    def test_wider_scope_shares_one_server(self, team_suite: pytest.Pytester) -> None:
        team_suite.makepyfile(test_scope="""
            seen = []

            def test_one(mock_server):
                seen.append(mock_server)

            def test_two(mock_server):
                assert seen == [mock_server]
        """)
        team_suite.runpytest("-p", "mockserver.testing", "--mock-server-scope", "module").assert_outcomes(passed=2)
        team_suite.makeini("[pytest]\nmock_server_scope = session\n")
        team_suite.runpytest("-p", "mockserver.testing").assert_outcomes(passed=2)
        team_suite.runpytest("-p", "mockserver.testing", "--mock-server-scope", "function").assert_outcomes(
            passed=1, failed=1)

    def test_options_fixture_and_misuse(self, team_suite: pytest.Pytester) -> None:
        team_suite.makeconftest("""
            import pytest

            @pytest.fixture
            def mock_server_options():
                return {"seed": 5}
        """)
        team_suite.makepyfile(test_options="""
            import pytest

            def test_options(mock_server):
                assert mock_server.settings.seed == 5

            @pytest.mark.mock_server(http=True)
            def test_http_by_marker(mock_server):
                pass
        """)
        result = team_suite.runpytest("-p", "mockserver.testing")
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines(["*choose in-process or a port by fixture*"])

    def test_bad_scope_is_a_usage_error(self, team_suite: pytest.Pytester) -> None:
        team_suite.makeini("[pytest]\nmock_server_scope = forever\n")
        team_suite.makepyfile(test_bad="def test_it(mock_server):\n    pass\n")
        result = team_suite.runpytest("-p", "mockserver.testing")
        result.stdout.fnmatch_lines(["*mock_server_scope must be one of function, class, module, package, session*"])
        assert result.ret != 0
