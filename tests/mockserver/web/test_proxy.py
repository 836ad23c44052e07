"""`mockserver proxy`: the APIs' paths forwarded to an upstream, each exchange checked, the traffic recorded.

Upstreams run in process (the mock itself, or `faulty_upstream`) behind an `httpx.ASGITransport`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from starlette.applications import Starlette

from conformance.cli import main as conformance_main
from mockserver.clock import ManualClock
from mockserver.fixtures import load_fixtures
from mockserver.recording import Recording
from mockserver.settings import Settings, load_settings
from mockserver.web import MockApp, create_app
from mockserver.web import proxy as proxy_module
from mockserver.web.proxy import create_proxy_app
from tests.mockserver.support import (
    IMX_ALPHA,
    IMX_BASE,
    IMX_CHAIN,
    IMX_COLLECTION,
    IMX_REFRESH,
    RAIR_OWNER,
    RAIR_TOKEN_PATH,
    TKN_BEARER,
    TKN_PATH,
)
from tests.mockserver.web.faulty_upstream import (
    GET_FAULTS,
    NFTS,
    OTHER_NFTS,
    REFRESH_FAULTS,
    faulty_upstream,
)

pytestmark = pytest.mark.anyio
UPSTREAM = "http://upstream.test"
REFRESH_ITEM = {"token_id": "1", "name": "Big Sword", "description": None, "image": None, "external_url": None,
                "animation_url": None, "youtube_url": None, "attributes": []}
# Immutable's stacked metadata in the default fixtures, carried by NFTs 4 and 5.
METADATA_BASE = f"/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/metadata"
STACKED_ID = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"
STACKED_ITEM = {**{k: v for k, v in REFRESH_ITEM.items() if k != "token_id"}, "metadata_id": STACKED_ID,
                "name": "Steel Helmet"}


def proxy_app(upstream: Any, recording: Recording | None = None, settings: Settings | None = None) -> MockApp:
    return create_proxy_app(UPSTREAM, settings, recording=recording, clock=ManualClock(),
                            transport=httpx.ASGITransport(app=upstream))


async def client_of(app: Any, base_url: str = "http://127.0.0.1") -> httpx.AsyncClient:
    # A loopback Host by default, so that the admin API answers too.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def mock_upstream() -> MockApp:
    return create_app(clock=ManualClock())


@pytest.fixture
async def faulty() -> Starlette:
    return faulty_upstream()


@pytest.fixture
async def through_mock(mock_upstream: MockApp, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Recording]]:
    recording = Recording(tmp_path / "recorded", upstream=UPSTREAM)
    async with await client_of(proxy_app(mock_upstream, recording)) as client:
        yield client, recording


READS = [
    ("GET", f"{IMX_BASE}/1", {}),
    ("GET", f"{IMX_BASE}/3", {}),
    ("GET", f"{IMX_BASE}?page_size=2", {}),
    ("GET", f"{IMX_BASE}/4", {}),
    ("GET", f"{METADATA_BASE}/{STACKED_ID}", {}),
    ("GET", f"{METADATA_BASE}?page_size=5", {}),
    ("GET", RAIR_TOKEN_PATH, {"headers": {"x-rair-token": RAIR_OWNER}}),
    ("GET", TKN_PATH, {"headers": {"Authorization": f"Bearer {TKN_BEARER}"}}),
]
WRITES = [
    ("POST", IMX_REFRESH, {"headers": {"x-immutable-api-key": IMX_ALPHA}, "json": {"nft_metadata": [REFRESH_ITEM]}}),
    ("POST", f"{METADATA_BASE}/refresh-metadata", {"headers": {"x-immutable-api-key": IMX_ALPHA},
                                                  "json": {"metadata": [STACKED_ITEM]}}),
    ("POST", RAIR_TOKEN_PATH, {"headers": {"x-rair-token": RAIR_OWNER}, "files": {"name": (None, "Renamed")}}),
    ("PUT", TKN_PATH, {"headers": {"Authorization": f"Bearer {TKN_BEARER}"},
                       "files": {"name": (None, "x"), "description": (None, "y")}}),
    ("GET", f"{IMX_BASE}/999", {}),
]


async def test_the_mock_as_upstream_answers_the_same_and_breaks_no_rule(
        through_mock: tuple[httpx.AsyncClient, Recording]) -> None:
    client, _ = through_mock
    direct_app = create_app(clock=ManualClock())
    # Reached by the upstream's name, as the proxy reaches it: the file URLs in its answers name it.
    async with await client_of(direct_app, UPSTREAM) as direct:
        for method, path, options in READS + WRITES:
            proxied = await client.request(method, path, **options)
            expected = await direct.request(method, path, **options)
            assert proxied.status_code == expected.status_code, (method, path, proxied.text)
            assert proxied.headers["x-mock-violations"] == "0", (path, proxied.headers.get("x-mock-violations-summary"))
            assert _without_trace(proxied) == _without_trace(expected), (method, path)
    summary = (await client.get("/__mock/violations")).json()
    assert summary == {"exchanges": len(READS + WRITES), "exchanges_with_violations": 0, "violations": 0,
                       "operations": []}
    entry = (await client.get("/__mock/journal", params={"limit": 1})).json()["entries"][0]
    assert entry["violations"] == []
    assert entry["operation"] == "GetNFT"


async def test_a_page_on_another_origin_may_read_what_the_proxy_found(
        through_mock: tuple[httpx.AsyncClient, Recording]) -> None:
    client, _ = through_mock
    # The upstream (the mock) lets any origin read its answers, exposing its own headers: the proxy adds its two.
    across = await client.get(f"{IMX_BASE}/1", headers={"Origin": "https://app.example"})
    exposed = [name.strip().lower() for name in across.headers["access-control-expose-headers"].split(",")]
    assert {"x-mock-violations", "x-mock-violations-summary", "imx-refreshes-limit"} <= set(exposed)
    assert across.headers["x-mock-violations"] == "0"
    # An answer the upstream does not open to other origins stays as it was.
    same = await client.get(f"{IMX_BASE}/1")
    assert "access-control-expose-headers" not in same.headers


async def test_a_cors_preflight_passes_through_and_is_no_violation(
        through_mock: tuple[httpx.AsyncClient, Recording]) -> None:
    client, _ = through_mock
    preflight = await client.options(IMX_REFRESH, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-immutable-api-key, content-type"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"  # the upstream's own answer
    assert preflight.headers["x-mock-violations"] == "0", preflight.headers.get("x-mock-violations-summary")
    assert (await client.get("/__mock/violations")).json()["violations"] == 0


async def test_the_proxys_own_502_is_readable_by_a_page_on_another_origin() -> None:
    async def unreachable(scope: Any, receive: Any, send: Any) -> None:
        raise httpx.ConnectError("connection refused")

    async with await client_of(proxy_app(unreachable)) as client:
        answer = await client.get(f"{IMX_BASE}/1", headers={"Origin": "https://app.example"})

    assert answer.status_code == 502
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["vary"] == "Origin"  # once, as on the mock's own answers


OURS = b"X-Mock-Violations, X-Mock-Violations-Summary"


@pytest.mark.parametrize(("upstream", "sent"), [
    ([(b"content-type", b"application/json")], [(b"content-type", b"application/json")]),
    ([(b"access-control-allow-origin", b"*")], [(b"access-control-allow-origin", b"*"),
                                                 (b"access-control-expose-headers", OURS)]),
    ([(b"Access-Control-Allow-Origin", b"https://a.example"), (b"Access-Control-Expose-Headers", b"ETag")],
     [(b"Access-Control-Allow-Origin", b"https://a.example"), (b"Access-Control-Expose-Headers", b"ETag, " + OURS)]),
    ([(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b" ")],
     [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", OURS)]),
])
async def test_the_proxys_headers_are_exposed_only_where_the_upstream_allows_other_origins(
        upstream: list[tuple[bytes, bytes]], sent: list[tuple[bytes, bytes]]) -> None:
    assert proxy_module._exposing_ours(upstream) == sent


def _without_trace(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return response.content
    body = response.json()
    if isinstance(body, dict):
        body.pop("trace_id", None)
    return body


async def test_every_fault_of_the_upstream_is_reported_in_header_journal_and_summary(
        faulty: Starlette, tmp_path: Path) -> None:
    recording = Recording(tmp_path, upstream=UPSTREAM)
    async with await client_of(proxy_app(faulty, recording)) as client:
        for token_id, rule in GET_FAULTS.items():
            response = await client.get(f"{NFTS}/{token_id}")
            assert response.headers["x-mock-violations"] == "1", (token_id, response.headers)
            assert response.headers["x-mock-violations-summary"].startswith(f"{rule}: "), token_id
        for base in (NFTS, OTHER_NFTS):
            rule = REFRESH_FAULTS[base.split("/")[5]]
            response = await client.post(f"{base}/refresh-metadata", json={"nft_metadata": [REFRESH_ITEM]},
                                          headers={"x-immutable-api-key": IMX_ALPHA})
            assert response.status_code == 202  # the upstream's answer, unchanged
            assert rule in response.headers["x-mock-violations-summary"]
        clean = await client.get(f"{NFTS}/5")
        assert (clean.status_code, clean.headers["x-mock-violations"]) == (404, "0")

        incoherent = (await client.get("/__mock/journal", params={"operation": "RefreshNFTMetadataByTokenID"})
                      ).json()["entries"][-1]["violations"]
        assert [v["rule"] for v in incoherent] == ["rate-limit-coherent", "rate-limit-coherent"]
        assert "imx-remaining-refreshes 11 is more than imx-refreshes-limit 10" in {v["message"] for v in incoherent}
        assert any("imx-refresh-limit-reset" in v["message"] for v in incoherent)

        summary = (await client.get("/__mock/violations")).json()
        broken = {(group["operation"], rule["rule"]) for group in summary["operations"] for rule in group["rules"]}
        assert broken == {("GetNFT", rule) for rule in GET_FAULTS.values()} | {
            ("RefreshNFTMetadataByTokenID", rule) for rule in REFRESH_FAULTS.values()}
        assert summary["exchanges"] == 7
        assert summary["exchanges_with_violations"] == 6

    # validate-traffic finds the same in the recording, with run's exit code and JUnit report.
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(conformance_main, ["validate-traffic", str(recording.har_path),
                                                   "--junit-xml", str(junit)])
    assert result.exit_code == 1, result.output
    for rule in [*GET_FAULTS.values(), *REFRESH_FAULTS.values()]:
        assert f"· {rule}" in result.output
        assert f'name="{rule}"' in junit.read_text()
    assert "6 failed" in result.output


async def test_an_unreachable_upstream_is_502_in_the_apis_own_shape_naming_it() -> None:
    app = create_proxy_app("http://127.0.0.1:9", clock=ManualClock(),
                           transport=httpx.AsyncHTTPTransport(retries=0))
    async with await client_of(app) as client:
        immutable = await client.get(f"{IMX_BASE}/1")
        rair = await client.get(RAIR_TOKEN_PATH)
    assert immutable.status_code == rair.status_code == 502
    assert immutable.json()["code"] == "INTERNAL_SERVER_ERROR"
    assert "The upstream http://127.0.0.1:9 could not be reached" in immutable.json()["message"]
    assert rair.json()["success"] is False
    assert "http://127.0.0.1:9" in rair.json()["message"]


async def test_the_mocks_own_client_limits_stay_out_of_the_way_of_the_upstream(mock_upstream: MockApp) -> None:
    # The upstream answers for its own limits: the proxy forwards every request, and adds no RateLimit header.
    limited = load_settings(environ={}, preset="realistic", overrides={"rair.rate_limit.limit": 1})
    async with await client_of(proxy_app(mock_upstream, settings=limited)) as client:
        answers = [await client.get(RAIR_TOKEN_PATH) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert all("ratelimit" not in answer.headers for answer in answers)


async def test_a_body_over_the_cap_is_refused_before_the_upstream_sees_it(faulty: Starlette) -> None:
    seen: list[str] = []

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await faulty(scope, receive, send)

    async with await client_of(proxy_app(counting)) as client:
        response = await client.put(TKN_PATH, content=b"x" * (26 * 1024 * 1024),
                                    headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
    assert "larger than this endpoint accepts" in response.json()["message"]
    assert seen == []


SECRETS = {"Authorization": "Bearer secret-bearer-1", "x-immutable-api-key": "sk_secret-key-2",
           "x-rair-token": "secret-rair-3", "Cookie": "session=secret-cookie-4"}


async def test_credentials_pass_to_the_upstream_but_are_never_recorded(tmp_path: Path) -> None:
    received: list[dict[str, str]] = []

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        received.append({k.decode(): v.decode() for k, v in scope["headers"]})
        body = json.dumps({"error": "x"}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"set-cookie", b"session=secret-cookie-5")]})
        await send({"type": "http.response.body", "body": body})

    recording = Recording(tmp_path, upstream=UPSTREAM)
    async with await client_of(proxy_app(echo, recording)) as client:
        await client.get(f"{IMX_BASE}/1", params={"api_key": "secret-query-6"}, headers=SECRETS)
        journal = (await client.get("/__mock/journal")).text
    assert received[0]["authorization"] == SECRETS["Authorization"]
    assert received[0]["x-immutable-api-key"] == SECRETS["x-immutable-api-key"]
    for stored in (recording.har_path.read_text(), journal):
        for secret in ("secret-bearer-1", "secret-key-2", "secret-rair-3", "secret-cookie-4", "secret-cookie-5",
                       "secret-query-6"):
            assert secret not in stored
        assert "[redacted]" in stored


async def test_a_recording_loads_into_serve_and_its_reads_answer_the_same(
        through_mock: tuple[httpx.AsyncClient, Recording], tmp_path: Path) -> None:
    client, recording = through_mock
    recorded = {}
    for method, path, options in READS:
        recorded[path] = await client.request(method, path, **options)
    # The recording holds no credentials: RAIR's and Tokenization's reads need one, given beside the records.
    document = yaml.safe_load(recording.fixtures_path.read_text())
    assert set(document) == {"rair", "immutable", "tokenization"}
    assert "users" not in document["rair"]
    assert "bearer_tokens" not in document["tokenization"]
    document["rair"]["users"] = [{"credential": RAIR_OWNER, "address": document["rair"]["contracts"][0]["owner"]}]
    document["tokenization"]["bearer_tokens"] = [TKN_BEARER]
    fixtures_file = tmp_path / "replay.yaml"
    fixtures_file.write_text(yaml.safe_dump(document))
    replay = create_app(clock=ManualClock(), fixtures=load_fixtures(fixtures_file))
    # By the upstream's name, as the recorded reads were answered: file URLs name the server.
    async with await client_of(replay, UPSTREAM) as served:
        for method, path, options in READS:
            again = await served.request(method, path, **options)
            assert again.status_code == 200, (path, again.text)
            assert again.json() == recorded[path].json(), path


async def test_the_har_file_is_har_1_2_with_every_required_field(
        through_mock: tuple[httpx.AsyncClient, Recording]) -> None:
    client, recording = through_mock
    for method, path, options in READS + WRITES:
        await client.request(method, path, **options)
    log = json.loads(recording.har_path.read_text())["log"]
    assert log["version"] == "1.2"
    assert set(log["creator"]) >= {"name", "version"}
    assert len(log["entries"]) == len(READS + WRITES)
    for entry in log["entries"]:
        assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
        assert set(entry["request"]) >= {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                                         "headersSize", "bodySize"}
        assert set(entry["response"]) >= {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                                          "redirectURL", "headersSize", "bodySize"}
        assert set(entry["response"]["content"]) >= {"size", "mimeType"}
        assert set(entry["timings"]) >= {"send", "wait", "receive"}
        assert entry["request"]["url"].startswith(UPSTREAM + "/")
    # The multipart write is kept byte for byte.
    rair_write = next(e for e in log["entries"] if e["request"]["method"] == "POST" and "/api/nft/" in
                      e["request"]["url"])
    assert 'name="name"\r\n\r\nRenamed' in rair_write["request"]["postData"]["text"]


async def test_head_says_the_gets_length_and_breaks_no_rule(
        through_mock: tuple[httpx.AsyncClient, Recording]) -> None:
    client, _ = through_mock
    get = await client.get(f"{IMX_BASE}/1")
    head = await client.head(f"{IMX_BASE}/1")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["x-mock-violations"] == "0"


async def test_an_upstream_answer_too_large_to_check_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy_module, "UPSTREAM_BODY_CAP", 1024)

    async def large(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for _ in range(4):
            await send({"type": "http.response.body", "body": b"x" * 512, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async with await client_of(proxy_app(large)) as client:
        response = await client.get(RAIR_TOKEN_PATH)
    assert response.status_code == 502
    assert response.json()["message"] == (f"The upstream {UPSTREAM} answered more than 1024 bytes, more than the "
                                          "proxy holds to check.")
