"""The fast path answers exactly as the Connexion path does, and only ever answers what it can."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.fixtures import Fixtures
from mockserver.web import MockApp
from mockserver.web.fastpath import FastPath
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_ALPHA,
    IMX_ALPHA_READONLY,
    IMX_BASE,
    IMX_BETA,
    IMX_BETA_COLLECTION,
    IMX_CHAIN,
    IMX_COLLECTION,
    IMX_REFRESH,
    RAIR_COLLECTOR,
    RAIR_CONTRACT,
    RAIR_NETWORK,
    RAIR_OWNER,
    RAIR_TOKEN_PATH,
    SPELLINGS,
    TKN_BEARER,
    TKN_OTHER_TOKEN,
    TKN_PATH,
    ApiClient,
    Multipart,
    immutable_service,
    nft_item,
    refresh_body,
    refresh_near_item_limit,
    refresh_near_list_limit,
)

pytestmark = pytest.mark.anyio

Request = tuple[str, str, dict[str, str], bytes]


class Pair:
    """Two apps on the same seed and settings, one with the fast path and one without, fed the same requests."""

    def __init__(self, make_app: Callable[..., MockApp], fixtures: Fixtures | None = None) -> None:
        common = {"seed": 11, "validate_responses": True, "immutable.rate_limit.limit": 40}
        self.fast = make_app(common, fixtures=fixtures)
        self.slow = make_app({**common, "fast_path": False}, fixtures=fixtures)

    def reset(self) -> None:
        self.fast.services.reset()
        self.slow.services.reset()

    def exchange(self, request: Request) -> tuple[httpx.Response, httpx.Response]:
        async def both() -> tuple[httpx.Response, httpx.Response]:
            answers = []
            for app in (self.fast, self.slow):
                async with ApiClient(app, validate=False) as client:
                    method, url, headers, body = request
                    answers.append(await client.request(method, url, headers=headers, content=body))
            return answers[0], answers[1]

        return anyio.run(both)


    def journals(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        def entries(app: MockApp) -> list[dict[str, Any]]:
            timeless = ("id", "time", "duration_ms")
            return [{k: v for k, v in e.as_dict().items() if k not in timeless} for e in app.services.journal.query()]

        return entries(self.fast), entries(self.slow)


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in the order they were sent, and the body's bytes."""
    return response.status_code, response.headers.multi_items(), response.content


@pytest.fixture(scope="module")
def pair_cache() -> dict[str, Pair]:
    return {}


@pytest.fixture
def pair(pair_cache: dict[str, Pair], make_app: Callable[..., MockApp]) -> Pair:
    """The module's pair of apps (building them is slow), back in their fixtures' state."""
    cached = pair_cache.get("pair")
    if cached is None:
        cached = pair_cache["pair"] = Pair(make_app)
    cached.reset()
    return cached


# Requests: a valid one for each operation the fast path serves, then any number of changes that may make it
# invalid, odd or unusual in the ways a client can.

uint256 = st.one_of(st.sampled_from(["1", "2", "3", "0", "01", "-1", "abc", str(2**256), str(2**256 - 1)]),
                    st.integers(min_value=0, max_value=10**6).map(str))
items = st.lists(st.builds(lambda token_id, name: nft_item(token_id, name=name), uint256,
                           st.one_of(st.none(), st.text(max_size=8))), max_size=4)
def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


refresh_bodies = st.one_of(
    items.map(lambda nfts: json.dumps({"nft_metadata": nfts}).encode()),
    # Nesting deeper than the API allows, up to deeper than Python's parser can go.
    st.sampled_from([60, 63, 64, 70, 900, 100_000]).map(
        lambda depth: f'{{"nft_metadata": {nested(depth)}}}'.encode()),
    st.sampled_from([10, 61, 62, 70, 950]).map(lambda depth: json.dumps(refresh_body("1")).replace(
        '"attributes": []', f'"attributes": [], "x": {nested(depth)}').encode()),
    # Items a byte either side of the size limits, written longer or shorter than their compact JSON.
    st.builds(refresh_near_item_limit, st.sampled_from([0, 1]), st.sampled_from(SPELLINGS)),
    st.builds(refresh_near_list_limit, st.sampled_from([0, 1]), st.sampled_from(["compact", "indented"])),
    st.sampled_from([b"", b"{}", b"[]", b"{", b'{"nft_metadata": NaN}', b"\xff\xfe", b"null",
                     json.dumps(refresh_body("1")).encode()[:-1],
                     json.dumps({**refresh_body("1"), "extra": True}).encode(),
                     json.dumps(refresh_body("1"), indent=2).encode()]),
)

credentials = {
    "immutable": ("x-immutable-api-key", [IMX_ALPHA, IMX_ALPHA_READONLY, IMX_BETA, "sk_unknown", ""]),
    "rair": ("x-rair-token", [RAIR_OWNER, RAIR_COLLECTOR, "unknown", ""]),
    "tokenization": ("authorization", [f"Bearer {TKN_BEARER}", f"bearer {TKN_BEARER}", "Bearer unknown",
                                       f"Basic {TKN_BEARER}", "Bearer", f"Bearer  {TKN_BEARER}"]),
}

BASES: dict[str, tuple[str, str, str]] = {
    "refresh": ("immutable", "POST", IMX_REFRESH),
    "get-nft": ("immutable", "GET", f"{IMX_BASE}/1"),
    "list-nfts": ("immutable", "GET", IMX_BASE),
    "rair-get": ("rair", "GET", RAIR_TOKEN_PATH),
    "tkn-get": ("tokenization", "GET", TKN_PATH),
    "rair-update": ("rair", "POST", RAIR_TOKEN_PATH),
    "tkn-update": ("tokenization", "PUT", TKN_PATH),
}
PATHS = {
    "refresh": [IMX_REFRESH, IMX_REFRESH.replace(IMX_COLLECTION, IMX_BETA_COLLECTION),
                IMX_REFRESH.replace(IMX_CHAIN, "unknown-chain"), IMX_REFRESH.replace(IMX_COLLECTION, "0x12")],
    "get-nft": [f"{IMX_BASE}/1", f"{IMX_BASE}/999999", f"{IMX_BASE}/01", f"{IMX_BASE}/abc",
                f"{IMX_BASE}/refresh-metadata", f"{IMX_BASE}/1/"],
    "list-nfts": [IMX_BASE, IMX_BASE.replace(IMX_CHAIN, "other")],
    "rair-get": [RAIR_TOKEN_PATH, RAIR_TOKEN_PATH.replace("/token/1", "/token/x"),
                 RAIR_TOKEN_PATH.replace("/token/1", "/token/-1"), RAIR_TOKEN_PATH.replace("/token/1", "/token/+1"),
                 RAIR_TOKEN_PATH.replace("/token/1", "/token/99"),
                RAIR_TOKEN_PATH.replace("/token/1", "/token/" + "9" * 5000)],
    "tkn-get": [TKN_PATH, f"/v2/admin/token/{TKN_OTHER_TOKEN}", "/v2/admin/token/nothex", TKN_PATH.upper()],
    "rair-update": [RAIR_TOKEN_PATH, RAIR_TOKEN_PATH.replace("/token/1", "/token/99"),
                    RAIR_TOKEN_PATH.replace("/token/1", "/token/01")],
    "tkn-update": [TKN_PATH, f"/v2/admin/token/{TKN_OTHER_TOKEN}", "/v2/admin/token/nothex"],
}

# Multipart bodies: the forms of RAIR's update and Tokenization's, valid and not, whole and broken.
UPDATES = ("rair-update", "tkn-update")
BOUNDARY = "fast-path-test-boundary"
texts = st.one_of(st.sampled_from(["Renamed", "", "none", "x" * 300, "ünïcode", "cover.png", "5", "-1", "abc",
                                   "1e400", "NaN", "42.5", "101", "null", "0123456789abcdef01234567"]),
                  st.text(max_size=6))
attributes = st.sampled_from(['[{"trait_type": "Colour", "value": "Pink"}]', "[]", "{}", '"x"', "[", "[1]",
                              '[{"trait_type": "\\ud800"}]', "[" * 70 + "]" * 70, "null"])
TEXT_FIELDS = {
    "rair": ["name", "description", "artist", "external_url", "image", "animation_url", "attributes", "unknown"],
    "tokenization": ["name", "description", "total_value", "currency_token_id", "salable_percentage",
                     "remove_image_ids", "remove_document_ids", "unknown"],
}
FILE_FIELDS = {"rair": ["files", "name"], "tokenization": ["images", "documents", "description"]}
files = st.tuples(st.sampled_from(["cover.png", "a.pdf", "", "caf\xe9.png", "x.gif"]),
                  st.sampled_from([media.png(), media.pdf(), media.gif(), b"plain text", b"\xff\x00"]),
                  st.sampled_from([None, "image/png", "application/pdf", "text/plain"]))


@st.composite
def multipart_bodies(draw: st.DrawFn, api: str) -> tuple[str | None, bytes]:
    """(Content-Type, body) of a form for `api`'s update; sometimes one that is malformed."""
    parts: list[bytes] = []
    if draw(st.booleans()):  # start from a valid form, so that many get past validation
        valid = {"rair": ["name"], "tokenization": ["name", "description"]}[api]
        parts += [f'Content-Disposition: form-data; name="{name}"\r\n\r\nvalid'.encode() for name in valid]
        if draw(st.booleans()):  # and an image it accepts
            field = {"rair": "files", "tokenization": "images"}[api]
            parts.append(f'Content-Disposition: form-data; name="{field}"; filename="cover.png"\r\n'
                         "Content-Type: image/png\r\n\r\n".encode() + media.png())
    for _ in range(draw(st.integers(min_value=0, max_value=4)) if draw(st.booleans()) else 0):
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            name = draw(st.sampled_from(FILE_FIELDS[api]))
            filename, data, part_type = draw(files)
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += f"Content-Type: {part_type}\r\n" if part_type else ""
            parts.append(head.encode("latin-1") + b"\r\n" + data)
        else:
            name = draw(st.sampled_from(TEXT_FIELDS[api]))
            value = draw(attributes if name == "attributes" else texts).encode()
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                value += b"\xff"  # not UTF-8
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
            head += draw(st.sampled_from(["", "Content-Type: text/plain; charset=utf-8\r\n"]))
            parts.append(head.encode() + b"\r\n" + value)
    dash = f"--{BOUNDARY}".encode()
    body = b"".join(dash + b"\r\n" + part + b"\r\n" for part in parts) + dash + b"--\r\n"
    broken = draw(st.integers(min_value=0, max_value=7))
    if broken == 0:
        body = body[:draw(st.integers(min_value=0, max_value=len(body)))]  # truncated anywhere
    elif broken == 1:
        body = draw(st.sampled_from([b"", b"not multipart", b"--" + BOUNDARY.encode() + b"\r\ngarbage",
                                     body.replace(b"\r\n", b"\n"), body.replace(b"Content-Disposition", b"X")]))
    content_type = f"multipart/form-data; boundary={BOUNDARY}" if draw(st.booleans()) else draw(st.sampled_from([
        f"multipart/form-data; boundary={BOUNDARY}", f"multipart/form-data;boundary={BOUNDARY}",
        f'multipart/form-data; boundary="{BOUNDARY}"', f"Multipart/Form-Data; boundary={BOUNDARY}",
        "multipart/form-data; boundary=other", "multipart/form-data", "application/json", None,
    ]))
    return content_type, body


@st.composite
def requests(draw: st.DrawFn) -> Request:
    operation = draw(st.sampled_from(sorted(BASES)))
    api, method, _ = BASES[operation]
    path = draw(st.sampled_from(PATHS[operation]))
    header, values = credentials[api]
    headers: dict[str, str] = {}
    credential = draw(st.one_of(st.none(), st.sampled_from(values)))
    if operation in UPDATES and draw(st.booleans()):  # an update that can succeed, to compare what it stores
        path, credential = PATHS[operation][0], values[0]
    if credential is not None:
        headers[header] = credential
    body = b""
    if operation == "refresh":
        body = draw(refresh_bodies)
        content_type = draw(st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                                             "application/json; charset=latin-1", None]))
        if content_type is not None:
            headers["content-type"] = content_type
    elif operation in UPDATES:
        content_type, body = draw(multipart_bodies(api))
        if content_type is not None:
            headers["content-type"] = content_type
    elif draw(st.booleans()) and draw(st.booleans()):
        body = b'{"unexpected": "body"}'
        headers["content-type"] = "application/json"
    if draw(st.booleans()):
        extra = draw(st.sampled_from([("prefer", "code=404"), ("prefer", "code=202"), ("prefer", "example=none"),
                                      ("origin", "http://app.test"), ("x-unrelated", "1")]))
        headers[extra[0]] = extra[1]
    if draw(st.booleans()):
        path += draw(st.sampled_from(["?page_size=1", "?page_size=0", "?token_id=1&token_id=2", "?x=1", "?"]))
    return method, path, headers, body


class TestSameAnswers:
    """Whatever the request, the fast path's answer is byte for byte the Connexion path's."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(sequence=st.lists(requests(), min_size=1, max_size=6))
    def test_any_sequence_of_requests(self, pair: Pair, sequence: list[Request]) -> None:
        pair.reset()
        for request in sequence:
            fast, slow = pair.exchange(request)
            assert _comparable(fast) == _comparable(slow), request
        fast_journal, slow_journal = pair.journals()
        assert fast_journal == slow_journal

    @pytest.mark.parametrize("over", [0, 1])
    @pytest.mark.parametrize("spelling", SPELLINGS)
    def test_refreshes_at_the_item_size_limit(self, pair: Pair, spelling: str, over: int) -> None:
        headers = {"x-immutable-api-key": IMX_ALPHA, "content-type": "application/json"}
        fast, slow = pair.exchange(("POST", IMX_REFRESH, headers, refresh_near_item_limit(over, spelling)))
        assert fast.status_code == (400 if over else 202)
        assert _comparable(fast) == _comparable(slow)
        fast, slow = pair.exchange(("GET", f"{IMX_BASE}/7", {}, b""))
        assert _comparable(fast) == _comparable(slow)

    def test_a_refresh_then_a_read_shows_the_new_metadata_on_both(self, pair: Pair) -> None:
        body = json.dumps(refresh_body("1", name="Renamed")).encode()
        refresh = ("POST", IMX_REFRESH, {"x-immutable-api-key": IMX_ALPHA, "content-type": "application/json"}, body)
        fast, slow = pair.exchange(refresh)
        assert fast.status_code == 202
        assert _comparable(fast) == _comparable(slow)
        fast, slow = pair.exchange(("GET", f"{IMX_BASE}/1", {}, b""))
        assert fast.json()["result"]["name"] == "Renamed"
        assert _comparable(fast) == _comparable(slow)

    def test_uploads_then_reads_show_the_files_on_both(self, pair: Pair) -> None:
        rair = (Multipart().field("name", "Renamed").file("files", "cover.png", media.png(), "image/png")
                .field("image", "cover.png").field("attributes", '[{"trait_type": "Colour", "value": "Pink"}]'))
        token = (Multipart().fields({"name": "Token", "description": "d", "total_value": "12",
                                     "salable_percentage": "50.5"})
                 .file("images", "front.png", media.png(2, 2), "image/png"))
        updates = [("POST", RAIR_TOKEN_PATH, {"x-rair-token": RAIR_OWNER, "content-type": rair.content_type},
                    rair.body()),
                   ("PUT", TKN_PATH, {"authorization": f"Bearer {TKN_BEARER}", "content-type": token.content_type},
                    token.body())]
        for update in updates:
            fast, slow = pair.exchange(update)
            assert fast.status_code == 200
            assert _comparable(fast) == _comparable(slow)
        fast, slow = pair.exchange(("GET", RAIR_TOKEN_PATH, {"x-rair-token": RAIR_OWNER}, b""))
        assert "/files/" in fast.json()["result"]["metadata"]["image"]
        assert _comparable(fast) == _comparable(slow)
        fast, slow = pair.exchange(("GET", TKN_PATH, {"authorization": f"Bearer {TKN_BEARER}"}, b""))
        assert _comparable(fast) == _comparable(slow)
        assert hashlib.sha256(media.png(2, 2)).hexdigest() in [image["hash"] for image in fast.json()["meta"]["images"]]
        assert pair.journals()[0] == pair.journals()[1]

    def test_the_quota_runs_out_alike(self, pair: Pair) -> None:
        body = json.dumps(refresh_body("2")).encode()
        refresh = ("POST", IMX_REFRESH, {"x-immutable-api-key": IMX_ALPHA, "content-type": "application/json"}, body)
        statuses = []
        for _ in range(41):
            fast, slow = pair.exchange(refresh)
            assert _comparable(fast) == _comparable(slow)
            statuses.append(fast.status_code)
        assert statuses == [202] * 40 + [429]


    def test_a_client_gone_before_its_body_is_answered_alike(self, pair: Pair) -> None:
        headers = [(b"host", b"mock.test"), (b"x-immutable-api-key", IMX_ALPHA.encode()),
                   (b"content-type", b"application/json"), (b"content-length", b"100")]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": IMX_REFRESH, "raw_path": IMX_REFRESH.encode(), "query_string": b"",
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("mock.test", 80)}

        async def statuses(app: MockApp) -> list[int]:
            sent: list[int] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    sent.append(message["status"])

            await app(dict(scope), receive, send)
            return sent

        assert anyio.run(statuses, pair.fast) == anyio.run(statuses, pair.slow) == [400]
        fast_journal, slow_journal = pair.journals()
        assert fast_journal == slow_journal
        # The seeded trace ids stay in step afterwards.
        fast, slow = pair.exchange(("GET", f"{IMX_BASE}/999", {}, b""))
        assert _comparable(fast) == _comparable(slow)


class TestSameAnswersOnOddFixtures:
    """Data a fixtures file can hold but the spec forbids, or that JSON cannot spell, reads back alike."""

    @pytest.mark.parametrize("change", [
        {"released": dt.date(2021, 9, 20)},  # YAML reads an unquoted date as a date
        {"name": 123},  # breaks the response schema: a 500 naming the field, with validation on
        {"artist": ["x" * 50] * 10},  # also the wrong type, with a long value quoted in the message
    ], ids=["date", "wrong type", "long value"])
    def test_rair_token_metadata(self, make_app: Callable[..., MockApp], default_fixtures: Fixtures,
                                 change: dict[str, Any]) -> None:
        fixtures = copy.deepcopy(default_fixtures)
        fixtures.rair_tokens[(RAIR_NETWORK, RAIR_CONTRACT, 0, 1)]["metadata"].update(change)
        pair = Pair(make_app, fixtures)
        fast, slow = pair.exchange(("GET", RAIR_TOKEN_PATH, {"x-rair-token": RAIR_OWNER}, b""))
        assert _comparable(fast) == _comparable(slow)
        assert fast.status_code == (200 if "released" in change else 500)


class Spy:
    """Counts the requests the fast paths pass on to the Connexion apps."""

    def __init__(self, app: MockApp) -> None:
        self.passed_on = 0
        for chain in app._api_chains.values():  # each API's middleware in front of its fast path, then the fast path
            fast_path = chain
            while not isinstance(fast_path, FastPath):
                fast_path = fast_path.app  # type: ignore[attr-defined]
            fast_path.app = self._counting(fast_path.app)

    def _counting(self, inner: Any) -> Any:
        async def counting(scope: Any, receive: Any, send: Any) -> None:
            self.passed_on += 1
            await inner(scope, receive, send)

        return counting


class TestWhatTakesTheFastPath:
    """Valid requests to the JSON and body-less operations skip Connexion; anything it must decide does not."""

    @pytest.fixture
    def spied(self, make_app: Callable[..., MockApp]) -> tuple[MockApp, Spy]:
        app = make_app()
        return app, Spy(app)

    async def test_valid_refreshes_and_reads_skip_connexion(self, spied: tuple[MockApp, Spy]) -> None:
        app, spy = spied
        async with ApiClient(app) as client:
            refreshed = await client.post(IMX_REFRESH, json=refresh_body("1"),
                                          headers={"x-immutable-api-key": IMX_ALPHA})
            read = await client.get(f"{IMX_BASE}/1")
            token = await client.get(TKN_PATH, headers={"authorization": f"Bearer {TKN_BEARER}"})
            rair = await client.get(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER})
        assert [refreshed.status_code, read.status_code, token.status_code, rair.status_code] == [202, 200, 200, 200]
        assert spy.passed_on == 0
        # The journal names the operation as it does for Connexion's requests.
        assert [entry.operation for entry in app.services.journal.query()] == [
            "RefreshNFTMetadataByTokenID", "GetNFT", "getToken", "getToken"]

    async def test_a_body_sent_in_several_messages_is_read_whole(self, spied: tuple[MockApp, Spy]) -> None:
        app, spy = spied
        body = json.dumps(refresh_body("1", name="Sent in pieces")).encode()
        pieces = [body[:5], body[5:40], body[40:]]
        headers = [(b"host", b"mock.test"), (b"x-immutable-api-key", IMX_ALPHA.encode()),
                   (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": IMX_REFRESH, "raw_path": IMX_REFRESH.encode(), "query_string": b"",
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("mock.test", 80)}
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            piece = pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        assert statuses == [202]
        assert spy.passed_on == 0
        async with ApiClient(app) as client:
            read = await client.get(f"{IMX_BASE}/1")
        assert read.json()["result"]["name"] == "Sent in pieces"

    @pytest.mark.parametrize("change", [
        {"headers": {"x-immutable-api-key": "sk_unknown"}},
        {"headers": {"prefer": "code=202"}},
        {"headers": {"origin": "http://app.test"}},
        {"json": {"nft_metadata": [{"token_id": "1"}]}},
    ], ids=["unknown key", "prefer", "cors", "invalid body"])
    async def test_what_connexion_must_decide_is_passed_on(self, spied: tuple[MockApp, Spy],
                                                           change: dict[str, Any]) -> None:
        app, spy = spied
        request: dict[str, Any] = {"json": refresh_body("1"), "headers": {"x-immutable-api-key": IMX_ALPHA}}
        request["headers"] = {**request["headers"], **change.get("headers", {})}
        request["json"] = change.get("json", request["json"])
        async with ApiClient(app, validate=False) as client:
            await client.post(IMX_REFRESH, **request)
        assert spy.passed_on == 1

    async def test_valid_multipart_updates_skip_connexion(self, spied: tuple[MockApp, Spy]) -> None:
        app, spy = spied
        async with ApiClient(app) as client:
            form = Multipart().fields({"name": "Renamed", "description": "d"})
            token = await client.put(TKN_PATH, **form.request_kwargs({"authorization": f"Bearer {TKN_BEARER}"}))
            upload = Multipart().field("name", "Renamed").file("files", "cover.png", media.png(), "image/png")
            rair = await client.post(RAIR_TOKEN_PATH, **upload.request_kwargs({"x-rair-token": RAIR_OWNER}))
            read = await client.get(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER})
        assert [token.status_code, rair.status_code, read.status_code] == [200, 200, 200]
        assert read.json()["result"]["metadata"]["name"] == "Renamed"
        assert spy.passed_on == 0
        assert [entry.operation for entry in app.services.journal.query()] == [
            "updateToken", "updateTokenMetadata", "getToken"]

    @pytest.mark.parametrize("form", [
        Multipart().field("name", "Renamed").field("unknown", "x"),
        Multipart().field("name", b"\xff"),
        Multipart().file("name", "n.txt", b"Renamed", "text/plain"),
    ], ids=["unknown field", "not UTF-8", "text as a file"])
    async def test_invalid_multipart_is_passed_on(self, spied: tuple[MockApp, Spy], form: Multipart) -> None:
        app, spy = spied
        async with ApiClient(app, validate=False) as client:
            response = await client.post(RAIR_TOKEN_PATH, **form.request_kwargs({"x-rair-token": RAIR_OWNER}))
        assert response.status_code == 400
        assert spy.passed_on == 1

    async def test_faults_switched_on_at_run_time_are_injected(self, spied: tuple[MockApp, Spy]) -> None:
        app, spy = spied
        app.services.update({"faults": {"operations": {"immutable/GetNFT": {"error_rate": 1.0,
                                                                            "error_status": 503}}}})
        async with ApiClient(app, validate=False) as client:
            response = await client.get(f"{IMX_BASE}/1")
        assert response.status_code == 503
        assert spy.passed_on == 1

    async def test_an_operation_limit_set_at_run_time_counts_fast_requests_too(
        self, spied: tuple[MockApp, Spy]
    ) -> None:
        app, _ = spied
        app.services.update({"operation_limits": {"immutable/GetNFT": {"limit": 1, "window": 60}}})
        async with ApiClient(app, validate=False) as client:
            first = await client.get(f"{IMX_BASE}/1")
            second = await client.get(f"{IMX_BASE}/1")
        assert (first.status_code, second.status_code) == (200, 429)
        assert "RateLimit" in first.headers


class TestResponseValidation:
    """With response validation on, a fast answer that breaks the spec is a 500 in the API's shape."""

    async def test_a_nonconforming_body_is_caught(self, make_app: Callable[..., MockApp],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        app = make_app({"validate_responses": True})
        monkeypatch.setattr(immutable_service(app.services), "get_nft", lambda *args: {"result": {"token_id": 1}})
        async with ApiClient(app, validate=False) as client:
            response = await client.get(f"{IMX_BASE}/1")
        assert response.status_code == 500
        assert "does not conform to specification" in response.json()["message"]
