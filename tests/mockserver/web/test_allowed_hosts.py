"""DNS rebinding: the admin API and the page answer only to loopback names, the bound address and
`admin.allowed_hosts`; the three vendor APIs answer to any name."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.web import MockApp
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    imx_headers,
    rair_headers,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.anyio

ADMIN_HEADERS = {"X-Mock-Admin": "1"}
CHANGED = "Changed by a test"
# A GET of each kind of guarded path: the admin API, its spec and Swagger UI, the page and its files.
GUARDED_READS = ["/__mock/settings", "/__mock/state", "/__mock/openapi.json", "/__mock/docs/", "/",
                 "/__page/page.js"]
# The names a hostile page has after DNS rebinding, and names that only look local.
# (Host header, the name the refusal quotes)
FOREIGN_HOSTS = [("evil.example", "evil.example"), ("evil.example:8080", "evil.example"),
                 ("localhost.evil.example", "localhost.evil.example"), ("127.0.0.1.nip.io:8080", "127.0.0.1.nip.io"),
                 ("localhostx", "localhostx"), ("mock.test", "mock.test"), ("[::2]:8080", "::2"),
                 ("0.0.0.0:8080", "0.0.0.0"), ("10.0.0.1", "10.0.0.1")]
LOOPBACK_HOSTS = ["localhost", "localhost:8080", "LOCALHOST:8080", "localhost.:8080", "app.localhost:3000",
                  "127.0.0.1", "127.0.0.1:8080", "127.5.6.7:9", "[::1]", "[::1]:8080"]


def client_for(app: MockApp, host: str) -> ApiClient:
    return ApiClient(app, base_url=f"http://{host}")


async def change_a_record(client: ApiClient) -> None:
    response = await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, CHANGED)})
    assert response.status_code == 200, response.text


async def rair_name(client: ApiClient) -> str:
    name: str = (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).json()["result"]["metadata"]["name"]
    return name


def assert_refused(response: Any, host_name: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 403
    assert f"'{host_name}'" in body["title"]
    assert "admin.allowed_hosts" in body["title"]  # the setting to change
    assert "rebinding" in body["title"]


class TestForeignHostsAreRefused:
    """What a page on `evil.example`, re-pointed at 127.0.0.1, would send: refused, and nothing changes."""

    @pytest.mark.parametrize(("host", "name"), FOREIGN_HOSTS)
    @pytest.mark.parametrize("path", GUARDED_READS)
    async def test_reads_are_403_naming_the_setting(self, app: MockApp, host: str, name: str, path: str) -> None:
        async with client_for(app, host) as client:
            response = await client.get(path)
        assert_refused(response, name)

    @pytest.mark.parametrize(("method", "path", "kwargs"), [
        pytest.param("POST", "/__mock/reset", {"headers": ADMIN_HEADERS}, id="reset"),
        pytest.param("PATCH", "/__mock/settings", {"json": {"immutable": {"refresh_delay": 9}}}, id="settings"),
        pytest.param("PUT", "/__mock/fixtures", {"json": {"rair": {"users": []}}}, id="fixtures"),
        pytest.param("DELETE", "/__mock/journal", {"headers": ADMIN_HEADERS}, id="journal"),
    ])
    async def test_state_changes_are_403_and_change_nothing(
            self, make_app: Any, method: str, path: str, kwargs: dict[str, Any]) -> None:
        app = make_app()  # not a cached app: were the change made, it would outlive this test
        async with ApiClient(app) as local, client_for(app, "evil.example:8080") as evil:
            await change_a_record(local)
            before = (await local.get("/__mock/state")).json(), app.settings, len(app.services.journal)

            response = await evil.request(method, path, **kwargs)

            assert_refused(response, "evil.example")
            assert ((await local.get("/__mock/state")).json(), app.settings, len(app.services.journal)) == before
            assert await rair_name(local) == CHANGED

    @pytest.mark.parametrize("host", ["evil.example@127.0.0.1", "127.0.0.1/x", "127.0.0.1 evil", "[::1", ""])
    async def test_a_host_header_that_is_no_host_is_403(self, app: MockApp, host: str) -> None:
        async with ApiClient(app) as client:
            response = await client.get("/__mock/settings", headers={"Host": host})
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"

    async def test_refused_before_the_token_is_asked_for(self, make_app: Any) -> None:
        app = make_app({"admin.token": "s3cret"})
        async with client_for(app, "evil.example") as client:
            without = await client.get("/__mock/settings")
            with_token = await client.get("/__mock/settings", headers={"Authorization": "Bearer s3cret"})
        assert_refused(without, "evil.example")
        assert_refused(with_token, "evil.example")
        assert "WWW-Authenticate" not in without.headers

    async def test_refused_when_the_admin_api_is_off(self, make_app: Any) -> None:
        async with client_for(make_app({"admin.enabled": False}), "evil.example") as client:
            assert_refused(await client.get("/"), "evil.example")


class TestLoopbackIsServed:
    @pytest.mark.parametrize("host", LOOPBACK_HOSTS)
    @pytest.mark.parametrize("path", GUARDED_READS)
    async def test_reads(self, app: MockApp, host: str, path: str) -> None:
        async with client_for(app, host) as client:
            assert (await client.get(path)).status_code == 200

    @pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"])
    async def test_reset(self, app: MockApp, host: str) -> None:
        async with client_for(app, host) as client:
            await change_a_record(client)
            assert (await client.post("/__mock/reset", headers=ADMIN_HEADERS)).status_code == 204
            assert await rair_name(client) != CHANGED

    async def test_a_request_without_host_is_served(self, app: MockApp) -> None:
        # Browsers always send Host; an HTTP/1.0 tool need not, and cannot be a rebinding page.
        scope_headers: list[tuple[bytes, bytes]] = []
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.0", "method": "GET",
                 "scheme": "http", "path": "/__mock/settings", "raw_path": b"/__mock/settings", "query_string": b"",
                 "root_path": "", "headers": scope_headers, "client": ("127.0.0.1", 1), "server": None}
        await app(scope, receive, send)
        assert sent[0]["status"] == 200


class TestTheVendorApisAnswerToAnyName:
    """Teams reach the mock by whatever name their network gives it."""

    @pytest.mark.parametrize("fast_path", [True, False])
    async def test_reads_and_updates_of_each_api(self, app_for: Any, fast_path: bool) -> None:
        app = app_for({"fast_path": fast_path})
        async with client_for(app, "mock.teams.example:8080") as client:
            refresh = await client.post(IMX_REFRESH, headers=imx_headers(), json=refresh_body("1"))
            assert refresh.status_code == 202, refresh.text
            assert (await client.get(f"{IMX_BASE}/1")).status_code == 200
            await change_a_record(client)
            assert await rair_name(client) == CHANGED
            assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200
            for path in ("/openapi/immutable.json", "/docs/immutable/"):
                assert (await client.get(path)).status_code == 200


class TestAllowedHostsSetting:
    @pytest.mark.parametrize(("allowed", "host", "served"), [
        pytest.param("mock.teams.example", "mock.teams.example:8080", True, id="exact-name"),
        pytest.param("MOCK.teams.example", "mock.teams.example", True, id="any-case"),
        pytest.param("mock.teams.example", "other.teams.example", False, id="another-name"),
        pytest.param("*.teams.example", "a.b.teams.example:8080", True, id="wildcard-subdomain"),
        pytest.param("*.teams.example", "teams.example", False, id="wildcard-not-the-domain"),
        pytest.param("*.teams.example", "evilteams.example", False, id="wildcard-not-a-suffix"),
        pytest.param("a.example,b.example", "b.example", True, id="comma-separated"),
        pytest.param("192.0.2.7", "192.0.2.7:8080", True, id="ipv4"),
        pytest.param("2001:db8::7", "[2001:db8::7]:8080", True, id="ipv6"),
        pytest.param("[2001:db8::7]", "[2001:DB8:0::7]", True, id="ipv6-bracketed"),
        pytest.param("*", "evil.example", True, id="star-turns-the-check-off"),
    ])
    async def test_names_it_lists(self, make_app: Any, allowed: str, host: str, served: bool) -> None:
        async with client_for(make_app({"admin.allowed_hosts": allowed}), host) as client:
            response = await client.get("/__mock/settings")
        assert response.status_code == (200 if served else 403), response.text

    async def test_the_bound_address_is_allowed(self, make_app: Any) -> None:
        # Bound beyond loopback, the admin API needs a token; the address it listens on is a name it answers to.
        app = make_app({"host": "192.0.2.7", "admin.token": "t"})
        token = {"Authorization": "Bearer t"}
        async with client_for(app, "192.0.2.7:8080") as bound, client_for(app, "192.0.2.8:8080") as other:
            assert (await bound.get("/__mock/settings", headers=token)).status_code == 200
            assert (await bound.get("/")).status_code == 200
            assert_refused(await other.get("/__mock/settings", headers=token), "192.0.2.8")

    async def test_shown_and_changed_by_the_admin_api(self, make_app: Any) -> None:
        app = make_app()
        async with ApiClient(app) as local, client_for(app, "mock.teams.example") as remote:
            assert (await local.get("/__mock/settings")).json()["admin"]["allowed_hosts"] == []
            assert (await remote.get("/__mock/settings")).status_code == 403
            patched = await local.patch("/__mock/settings", json={"admin": {"allowed_hosts": ["mock.teams.example"]}})
            assert patched.json()["admin"]["allowed_hosts"] == ["mock.teams.example"]
            assert (await remote.get("/__mock/settings")).status_code == 200

    async def test_an_entry_with_a_port_is_a_400_naming_the_setting(self, make_app: Any) -> None:
        app = make_app()
        async with ApiClient(app) as client:
            response = await client.patch("/__mock/settings", json={"admin": {"allowed_hosts": ["mock.example:80"]}})
        assert response.status_code == 400
        assert "admin.allowed_hosts" in response.json()["title"]
        assert app.settings.admin.allowed_hosts == ()
