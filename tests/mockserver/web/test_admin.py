"""The admin API under /__mock/: settings, state, rate limits, journal, reset and fixtures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mockserver.clock import ManualClock
from mockserver.web import MockApp
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    alias_bomb,
    immutable_service,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.anyio

# What the mock asks of a state-changing admin request without a JSON body (see TestWebPagesCannotDriveIt).
ADMIN_HEADER_NAME = "X-Mock-Admin"
ADMIN_HEADERS = {ADMIN_HEADER_NAME: "1"}


@pytest.fixture
async def fresh(make_app: Any) -> AsyncIterator[tuple[MockApp, ApiClient]]:
    """A new app per test: admin changes to settings outlive a reset, so cached apps must not see them."""
    app = make_app({"immutable.rate_limit.limit": 3, "immutable.rate_limit.window": 60})
    async with ApiClient(app) as client:
        yield app, client


class TestRateLimitScenario:
    """The issue's scenario: 3 per minute, four refreshes, then the limit changed at run time."""

    async def test_three_accepted_then_429_then_raised_limit(self, fresh: Any, clock: ManualClock) -> None:
        _, client = fresh
        remaining = []
        for _ in range(3):
            response = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
            assert response.status_code == 202
            remaining.append(response.headers["imx-remaining-refreshes"])
            clock.advance(5)
        assert remaining == ["2", "1", "0"]
        refused = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "45"  # 60 s window opened 15 s ago

        patched = await client.patch("/__mock/settings", json={"immutable": {"rate_limit": {"limit": 10}}})
        assert patched.status_code == 200
        assert patched.json()["immutable"]["rate_limit"]["limit"] == 10
        accepted = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
        assert accepted.status_code == 202
        assert accepted.headers["imx-refreshes-limit"] == "10"
        assert accepted.headers["imx-remaining-refreshes"] == "9"  # a changed limit starts a new window

    async def test_rate_limits_endpoint_shows_each_project(self, fresh: Any) -> None:
        _, client = fresh
        await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
        state = (await client.get("/__mock/rate-limits")).json()["immutable"]
        assert (state["limit"], state["window"], state["strategy"], state["cost"]) == (3, 60, "fixed-window", "request")
        by_project = {p["project"]: p["remaining"] for p in state["projects"]}
        assert by_project == {"project-alpha": 2, "project-beta": 3}

    async def test_cost_per_item_spends_one_per_refreshed_token(self, fresh: Any) -> None:
        _, client = fresh
        await client.patch("/__mock/settings", json={"immutable": {"rate_limit": {"cost": "item"}}})
        two = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1", "2"))
        assert two.headers["imx-remaining-refreshes"] == "1"
        too_many = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1", "2"))
        assert too_many.status_code == 429
        # A refused request spends nothing: one unit is still there for a one-item refresh.
        assert (await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("3"))).status_code == 202


class TestHealth:
    async def test_ok_with_the_memory_store(self, client: ApiClient) -> None:
        response = await client.get("/__mock/health")

        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok", "store": "memory"}

    async def test_in_the_admin_spec(self, client: ApiClient) -> None:
        spec = (await client.get("/__mock/openapi.json")).json()
        assert "/health" in spec["paths"]


class TestSettings:
    """Reading and patching settings; bad patches change nothing."""

    async def test_get_returns_the_config_file_shape(self, fresh: Any) -> None:
        _, client = fresh
        body = (await client.get("/__mock/settings")).json()
        assert body["immutable"]["rate_limit"]["limit"] == 3
        assert body["cors_origins"] == ["*"]
        assert set(body) >= {"host", "port", "rair", "immutable", "tokenization", "faults", "operation_limits"}

    @pytest.mark.parametrize(("patch", "words"), [
        ({"immutable": {"rate_limit": {"limit": 0}}}, "at least 1"),
        ({"immutable": {"rate_limit": {"strategy": "leaky"}}}, "fixed-window"),
        ({"nonsense": 1}, "unknown setting nonsense"),
        ({"port": 1}, "cannot change while the server runs"),
        ({"rair": {"max_files": 9}}, "rair.max_files"),
        # Valid settings but a storage `limits` refuses: the limit beside it must not take effect either.
        ({"immutable": {"rate_limit": {"storage": "bogus://", "limit": 5}}}, "rate-limit storage"),
    ])
    async def test_invalid_patch_is_400_and_changes_nothing(self, fresh: Any, patch: Any, words: str) -> None:
        app, client = fresh
        before = app.settings
        response = await client.patch("/__mock/settings", json=patch)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        assert words in response.json()["title"]
        assert app.settings == before
        assert (await client.get("/__mock/settings")).json()["immutable"]["rate_limit"]["limit"] != 5

    async def test_refresh_delay_changes_at_run_time(self, fresh: Any, clock: ManualClock) -> None:
        _, client = fresh
        await client.patch("/__mock/settings", json={"immutable": {"refresh_delay": 30}})
        await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1", name="Later"))
        assert (await client.get(f"{IMX_BASE}/1")).json()["result"]["name"] != "Later"
        clock.advance(30)
        assert (await client.get(f"{IMX_BASE}/1")).json()["result"]["name"] == "Later"


class TestStateResetAndFixtures:
    """State is visible, reset restores the fixtures, and new fixtures can be loaded."""

    async def test_reset_restores_records_quota_and_journal(self, fresh: Any) -> None:
        app, client = fresh
        await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "Changed")})
        await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
        assert len(app.services.journal) == 2
        assert (await client.post("/__mock/reset", headers=ADMIN_HEADERS)).status_code == 204
        token = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]
        assert token["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"
        assert immutable_service(app.services).limiter.peek("project-alpha").remaining == 3
        assert [e.path for e in app.services.journal.query()] == [RAIR_TOKEN_PATH]  # only the GET since reset

    async def test_state_shows_updates(self, fresh: Any) -> None:
        _, client = fresh
        await client.put(TKN_PATH, headers=tkn_headers(), files={"name": (None, "Shown"), "description": (None, "d")})
        state = (await client.get("/__mock/state")).json()
        assert {t["name"] for t in state["tokenization"]["tokens"]} >= {"Shown"}
        assert len(state["immutable"]["nfts"]) == 6
        assert state["files"] >= 2

    async def test_load_fixtures_yaml_replaces_everything(self, fresh: Any) -> None:
        _, client = fresh
        yaml_text = "tokenization:\n  bearer_tokens: [fresh-bearer]\n  tokens:\n" \
                    "    - {id: aaaaaaaaaaaaaaaaaaaaaaaa, name: New, description: Loaded}\n"
        response = await client.put("/__mock/fixtures", content=yaml_text,
                                    headers={"content-type": "application/yaml"})
        assert response.status_code == 204
        loaded = await client.get("/v2/admin/token/aaaaaaaaaaaaaaaaaaaaaaaa", headers=tkn_headers("fresh-bearer"))
        assert loaded.json()["name"] == "New"
        assert (await client.get(TKN_PATH, headers=tkn_headers("fresh-bearer"))).status_code == 404

    async def test_invalid_fixtures_are_400_and_keep_the_old_ones(self, fresh: Any) -> None:
        _, client = fresh
        response = await client.put("/__mock/fixtures", json={"tokenization": {"tokens": [{"id": "short"}]}})
        assert response.status_code == 400
        assert "tokenization.tokens[0].id" in response.json()["title"]
        assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200

    @pytest.mark.parametrize(("kwargs", "words"), [
        pytest.param({"content": b"", "headers": {"content-type": "application/yaml"}}, "empty", id="empty-yaml"),
        pytest.param({"content": b"# nothing\n", "headers": {"content-type": "application/yaml"}}, "empty",
                     id="comment-only-yaml"),
        pytest.param({"content": b"null", "headers": {"content-type": "application/yaml"}}, "empty", id="yaml-null"),
        pytest.param({"json": {}}, "empty", id="empty-json-object"),
        pytest.param({"content": b"- 1\n", "headers": {"content-type": "application/yaml"}}, "must be a mapping",
                     id="yaml-list"),
        pytest.param({"content": b"rair: [\n", "headers": {"content-type": "application/yaml"}}, "not valid YAML",
                     id="broken-yaml"),
        pytest.param({"content": b"rair: caf\xe9\n", "headers": {"content-type": "application/yaml"}},
                     "not valid YAML", id="not-utf8"),
        pytest.param({"json": {"tokenization": {}}}, "defines no record", id="empty-section"),
        pytest.param({"content": b"rair: {}\nimmutable: {}\n", "headers": {"content-type": "application/yaml"}},
                     "defines no record", id="empty-sections-yaml"),
        pytest.param({"content": alias_bomb().encode(), "headers": {"content-type": "application/yaml"}},
                     "may not use YAML aliases", id="alias-bomb"),
        pytest.param({"json": {"rair": None}}, "rair: must be a mapping", id="null-section"),
        pytest.param({"json": {"tokens": []}}, "unknown sections tokens", id="unknown-section"),
    ])
    async def test_empty_or_invalid_fixtures_are_400_and_keep_fixtures_and_state(
            self, fresh: Any, kwargs: dict[str, Any], words: str) -> None:
        app, client = fresh
        await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "Changed")})
        fixtures, state = app.services.fixtures, (await client.get("/__mock/state")).json()

        response = await client.put("/__mock/fixtures", **kwargs)

        assert response.status_code == 400
        assert words in response.json()["title"]
        assert app.services.fixtures == fixtures
        assert (await client.get("/__mock/state")).json() == state
        # A reset still goes back to the fixtures in force before the rejected request.
        assert (await client.post("/__mock/reset", headers=ADMIN_HEADERS)).status_code == 204
        token = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]
        assert token["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    """`data` as an async generator: httpx sends it chunked, `size` bytes a piece."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class TestJournal:
    """Every API exchange is journaled with credentials redacted, and can be filtered."""

    async def test_app_sent_exactly_one_refresh_with_these_ids(self, fresh: Any) -> None:
        _, client = fresh
        await client.get(f"{IMX_BASE}/1")
        await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1", "2"))
        entries = (await client.get("/__mock/journal", params={"operation": "RefreshNFTMetadataByTokenID"})).json()
        [entry] = entries["entries"]
        assert [item["token_id"] for item in entry["request_body"]["nft_metadata"]] == ["1", "2"]
        assert entry["status"] == 202
        assert entry["api"] == "immutable"
        assert entry["request_headers"]["x-immutable-api-key"] == "[redacted]"
        assert entry["response_headers"]["imx-remaining-refreshes"] == "2"

    async def test_errors_and_filters(self, fresh: Any, clock: ManualClock) -> None:
        _, client = fresh
        await client.get(TKN_PATH)  # 401
        clock.advance(10)
        since = clock.time()
        png = b"\x89PNG\r\n\x1a\n"
        files = {"name": (None, "n"), "description": (None, "d"), "images": ("a.png", png, "image/png")}
        await client.put(TKN_PATH, headers=tkn_headers(), files=files)
        unauthorised = (await client.get("/__mock/journal", params={"status": 401})).json()["entries"]
        assert [e["request_headers"].get("authorization") for e in unauthorised] == [None]
        recent = (await client.get("/__mock/journal", params={"since": since})).json()["entries"]
        assert [e["operation"] for e in recent] == ["updateToken"]
        parts = {p["name"]: p for p in recent[0]["request_body"]["parts"]}
        assert parts["images"]["filename"] == "a.png"
        assert parts["name"]["value"] == "n"
        assert (await client.delete("/__mock/journal", headers=ADMIN_HEADERS)).status_code == 204
        assert (await client.get("/__mock/journal")).json() == {"entries": []}

    async def test_only_requests_to_the_apis_are_journaled(self, fresh: Any) -> None:
        _, client = fresh
        for path in ("/", "/openapi/immutable.json", "/__mock/health", "/no-such-page"):
            await client.get(path)
        await client.get(f"{IMX_BASE}/1")
        entries = (await client.get("/__mock/journal")).json()["entries"]
        assert [(e["api"], e["path"]) for e in entries] == [("immutable", f"{IMX_BASE}/1")]

    async def test_bodies_sent_in_pieces_are_journaled_whole_up_to_64_kib(self, fresh: Any) -> None:
        _, client = fresh
        body = json.dumps(refresh_body("1", "2")).encode()
        description = "d" * 70_000  # more than the journal keeps, in many pieces
        files = {"name": (None, "n"), "description": (None, description)}

        await client.post(IMX_REFRESH, headers={**imx_headers(), "Content-Type": "application/json"},
                          content=_pieces(body, 10))
        await client.put(TKN_PATH, headers=tkn_headers(), files=files)

        refresh, update = (await client.get("/__mock/journal")).json()["entries"]
        assert [item["token_id"] for item in refresh["request_body"]["nft_metadata"]] == ["1", "2"]
        assert refresh["status"] == 202
        assert update["status"] == 200
        assert update["request_body"]["size"] == 64 * 1024  # the part of the body kept
        assert [part["name"] for part in update["request_body"]["parts"]] == ["name", "description"]


class TestAdminAccess:
    """The admin API needs its token when one is set, and is not served beyond loopback without one."""

    async def test_token_required_when_set(self, make_app: Any) -> None:
        async with ApiClient(make_app({"admin.token": "s3cret"})) as client:
            assert (await client.get("/__mock/settings")).status_code == 401
            wrong = await client.get("/__mock/settings", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = await client.get("/__mock/settings", headers={"Authorization": "Bearer s3cret"})
            assert right.status_code == 200

    @pytest.mark.parametrize("value", ["Bearer s3cret ", "Bearer s3cret\t"])
    async def test_whitespace_around_the_token_is_not_part_of_it(self, make_app: Any, value: str) -> None:
        async with ApiClient(make_app({"admin.token": "s3cret"})) as client:
            response = await client.get("/__mock/settings", headers={"Authorization": value})
        assert response.status_code == 200, response.text

    async def test_not_served_beyond_loopback_without_token(self, make_app: Any) -> None:
        async with ApiClient(make_app({"host": "0.0.0.0"})) as client:
            assert (await client.get("/__mock/settings")).status_code == 404
        async with ApiClient(make_app({"host": "0.0.0.0", "admin.token": "t"})) as client:
            assert (await client.get("/__mock/settings", headers={"Authorization": "Bearer t"})).status_code == 200

    async def test_spec_and_docs_are_served(self, fresh: Any) -> None:
        _, client = fresh
        spec = (await client.get("/__mock/openapi.json")).json()
        assert "/settings" in spec["paths"]
        assert (await client.get("/__mock/docs/")).status_code == 200


EVIL_ORIGIN = "https://evil.example"
OWNER_NAME = "CoinAgenda Monaco 2021 #1"  # the fixtures' name of RAIR token 1


class TestWebPagesCannotDriveIt:
    """A page the developer visits can neither read the admin API (no CORS) nor change the mock through it."""

    async def test_no_cors_headers_for_other_origins(self, fresh: Any) -> None:
        _, client = fresh
        preflight = await client.options("/__mock/reset", headers={
            "origin": EVIL_ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "x-mock-admin"})
        read = await client.get("/__mock/settings", headers={"origin": EVIL_ORIGIN})
        api = await client.get(f"{IMX_BASE}/1", headers={"origin": EVIL_ORIGIN})

        assert not any(name.startswith("access-control-") for name in preflight.headers)
        assert read.status_code == 200
        assert not any(name.startswith("access-control-") for name in read.headers)
        assert api.headers["access-control-allow-origin"] == "*"  # the three APIs keep their CORS

    @pytest.mark.parametrize(("method", "path", "kwargs"), [
        pytest.param("POST", "/__mock/reset", {}, id="reset-without-body"),
        pytest.param("POST", "/__mock/reset", {"content": b"x", "headers": {"content-type": "text/plain"}},
                     id="reset-text-plain"),
        pytest.param("POST", "/__mock/reset", {"data": {"a": "b"}}, id="reset-form"),
        pytest.param("DELETE", "/__mock/journal", {}, id="clear-journal"),
        pytest.param("PUT", "/__mock/fixtures", {"content": b"{}", "headers": {"content-type": "text/plain"}},
                     id="fixtures-text-plain"),
        pytest.param("PATCH", "/__mock/settings", {"content": b'{"immutable": {"refresh_delay": 9}}',
                                                   "headers": {"content-type": "text/plain"}}, id="settings-text"),
    ])
    async def test_a_request_a_page_can_send_without_preflight_is_403_and_changes_nothing(
            self, fresh: Any, method: str, path: str, kwargs: dict[str, Any]) -> None:
        app, client = fresh
        await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "Changed")})
        before = (await client.get("/__mock/state")).json(), app.settings, len(app.services.journal)

        response = await client.request(method, path, **kwargs)

        assert response.status_code == 403
        assert "X-Mock-Admin" in response.json()["title"]
        assert "cross-site" in response.json()["title"]
        assert ((await client.get("/__mock/state")).json(), app.settings, len(app.services.journal)) == before

    @pytest.mark.parametrize("kwargs", [
        pytest.param({"headers": {"X-Mock-Admin": "1"}}, id="custom-header"),
        pytest.param({"json": {}}, id="json-body"),
    ])
    async def test_reset_with_a_custom_header_or_json_works(self, fresh: Any, kwargs: dict[str, Any]) -> None:
        _, client = fresh
        await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "Changed")})

        response = await client.post("/__mock/reset", **kwargs)

        assert response.status_code == 204
        token = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]
        assert token["metadata"]["name"] == OWNER_NAME


class TestSecretsAreNeverShown:
    """The admin token and a store password never appear in the settings the admin API returns."""

    async def test_admin_token_is_redacted_and_survives_a_round_trip(self, make_app: Any) -> None:
        app = make_app({"admin.token": "s3cret"})
        auth = {"Authorization": "Bearer s3cret"}
        async with ApiClient(app) as client:
            shown = await client.get("/__mock/settings", headers=auth)
            patched = await client.patch("/__mock/settings", headers=auth, json=shown.json())

            assert "s3cret" not in shown.text
            assert shown.json()["admin"]["token"] == "[redacted]"
            assert patched.status_code == 200
            assert "s3cret" not in patched.text
            # The tree read back and PATCHed unchanged keeps the token, not the placeholder.
            assert app.settings.admin.token == "s3cret"
            assert (await client.get("/__mock/state", headers=auth)).status_code == 200

    async def test_no_token_shows_as_none(self, fresh: Any) -> None:
        _, client = fresh
        assert (await client.get("/__mock/settings")).json()["admin"]["token"] is None

    async def test_store_password_is_redacted(self, make_app: Any, redis_url: str) -> None:
        import redis

        # A Redis user with a password, so that the store URL carries one the server checks.
        with redis.Redis.from_url(redis_url) as admin:
            admin.execute_command("ACL", "SETUSER", "mock-test", "on", ">pa55word", "~*", "&*", "+@all")
        try:
            url = redis_url.replace("redis://", "redis://mock-test:pa55word@")
            app = make_app({"store": url, "immutable.rate_limit.storage": url})
            async with ApiClient(app) as client:
                shown = await client.get("/__mock/settings")
                patched = await client.patch("/__mock/settings", json=shown.json())
            described = repr(app) + repr(app.services)  # while the user exists: RedisStore's repr counts records
        finally:
            with redis.Redis.from_url(redis_url) as admin:
                admin.execute_command("ACL", "DELUSER", "mock-test")

        assert shown.status_code == 200
        assert "pa55word" not in shown.text
        assert shown.json()["store"] == url.replace("pa55word", "[redacted]")
        assert shown.json()["immutable"]["rate_limit"]["storage"] == url.replace("pa55word", "[redacted]")
        assert patched.status_code == 200, patched.text
        assert app.settings.store == url
        assert "pa55word" not in described


class TestRateLimitOnRedis:
    async def test_a_strategy_changed_while_running_counts_under_keys_of_its_own(self, make_app: Any,
                                                                               redis_url: str) -> None:
        # A fixed window's counter and a sliding window's entries are different Redis types: the limiter for the
        # new strategy found the old one's key, and every refresh answered 503 until it expired.
        app = make_app({"store": redis_url, "immutable.rate_limit": {"strategy": "sliding-window", "limit": 5}})
        async with ApiClient(app) as client:
            first = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            patched = await client.patch("/__mock/settings",
                                         json={"immutable": {"rate_limit": {"strategy": "fixed-window"}}})
            second = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            limits = await client.get("/__mock/rate-limits")

        assert (first.status_code, patched.status_code, second.status_code) == (202, 200, 202), second.text
        assert second.headers["imx-remaining-refreshes"] == "4"  # a new strategy counts afresh
        assert limits.status_code == 200

    async def test_an_operation_limits_strategy_changed_while_running(self, make_app: Any, redis_url: str) -> None:
        app = make_app({"store": redis_url, "operation_limits.*.limit": 3,
                        "operation_limits.*.strategy": "sliding-window"})
        async with ApiClient(app) as client:
            first = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            patched = await client.patch("/__mock/settings", json={"operation_limits": {"*": {
                "limit": 3, "strategy": "fixed-window"}}})
            second = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert (first.status_code, patched.status_code, second.status_code) == (202, 200, 202), second.text

    @pytest.mark.parametrize(("store", "reset", "status"), [
        ("memory", False, 202), ("redis", False, 429), ("memory", True, 202), ("redis", True, 202)])
    async def test_a_strategy_switched_back_finds_what_its_store_kept_until_a_reset(
        self, make_app: Any, request: pytest.FixtureRequest, store: str, reset: bool, status: int
    ) -> None:
        # Sliding window spent in full, switched to fixed and back. Redis keeps each strategy's spending for its
        # window, for every worker sharing it (settings are per worker), and a reset clears every strategy's
        # (`limits`' own reset, only the current one's); a limiter in memory is this worker's alone and starts
        # empty when the settings change.
        url = request.getfixturevalue("redis_url") if store == "redis" else "memory://"
        app = make_app({"store": url, "immutable.rate_limit": {"strategy": "sliding-window", "limit": 2}})
        async with ApiClient(app) as client:
            for _ in range(2):
                assert (await client.post(IMX_REFRESH, json=refresh_body("1"),
                                          headers=imx_headers())).status_code == 202
            assert (await client.patch("/__mock/settings", json=_strategy("fixed-window"))).status_code == 200
            if reset:
                assert (await client.post("/__mock/reset", headers={ADMIN_HEADER_NAME: "1"})).status_code == 204
            assert (await client.patch("/__mock/settings", json=_strategy("sliding-window"))).status_code == 200
            after = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert after.status_code == status, after.text

    async def test_rair_has_no_strategy_to_change(self, make_app: Any) -> None:
        async with ApiClient(make_app()) as client:
            patched = await client.patch("/__mock/settings",
                                         json={"rair": {"rate_limit": {"strategy": "sliding-window"}}})
        assert patched.status_code == 400, patched.text


def _strategy(name: str) -> dict[str, Any]:
    return {"immutable": {"rate_limit": {"strategy": name}}}


class TestAdminTokenEverywhere:
    """With admin.token set, the admin API's spec and Swagger UI need it too; the scheme is case-insensitive."""

    @pytest.mark.parametrize("path", ["/__mock/openapi.json", "/__mock/docs/"])
    async def test_spec_and_docs_need_the_token(self, make_app: Any, path: str) -> None:
        async with ApiClient(make_app({"admin.token": "s3cret"})) as client:
            refused = await client.get(path)
            allowed = await client.get(path, headers={"Authorization": "Bearer s3cret"})

        assert refused.status_code == 401
        assert "s3cret" not in refused.text
        assert allowed.status_code == 200

    @pytest.mark.parametrize(("authorization", "status"), [
        ("Bearer s3cret", 200), ("bearer s3cret", 200), ("BEARER s3cret", 200), ("Bearer   s3cret", 200),
        ("s3cret", 401), ("Basic s3cret", 401), ("Bearer", 401), ("Bearer s3cret x", 401),
    ])
    async def test_bearer_scheme_in_any_case(self, make_app: Any, authorization: str, status: int) -> None:
        async with ApiClient(make_app({"admin.token": "s3cret"})) as client:
            response = await client.get("/__mock/settings", headers={"Authorization": authorization})

        assert response.status_code == status


class TestSwaggerUiCanChangeState:
    """"Try it out" in /__mock/docs/ sends a header parameter's example and a JSON body as given: each
    state-changing operation must offer one of them, or the preflight rule refuses what the UI sends
    (tests/browser clicks it for POST /reset)."""

    async def test_each_state_changing_operation_offers_the_header_example_or_a_json_body(self, fresh: Any) -> None:
        _, client = fresh
        spec = (await client.get("/__mock/openapi.json")).json()

        def resolved(node: dict[str, Any]) -> dict[str, Any]:
            if "$ref" not in node:
                return node
            target: dict[str, Any] = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return target

        offers = {}
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method.upper() in ("GET", "HEAD", "OPTIONS"):
                    continue
                examples = [resolved(p).get("example") for p in operation.get("parameters", [])
                            if resolved(p)["in"] == "header" and resolved(p)["name"] == ADMIN_HEADER_NAME]
                body = operation.get("requestBody", {})
                offers[f"{method.upper()} {path}"] = (examples[0] if examples else None, body.get("required", False)
                                                      and "application/json" in body.get("content", {}))
        assert offers == {"PATCH /settings": (None, True), "POST /reset": ("1", False), "PUT /fixtures": (None, True),
                          "DELETE /journal": ("1", False)}

        # What the UI sends for POST /reset: the example as the header, no body.
        await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "Changed")})
        response = await client.post("/__mock/reset", headers={ADMIN_HEADER_NAME: offers["POST /reset"][0]})
        assert response.status_code == 204
        token = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]
        assert token["metadata"]["name"] == OWNER_NAME
