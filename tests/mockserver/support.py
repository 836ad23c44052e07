"""Helpers shared by the mock server's tests: request builders, spec validation of responses, store snapshots."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Awaitable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from mockserver.apis import immutable as immutable_api
from mockserver.apis import rair as rair_api
from mockserver.apis import tokenization as tokenization_api
from mockserver.apis.immutable import ImmutableRecords, ImmutableService
from mockserver.apis.rair import RairRecords, RairService
from mockserver.apis.tokenization import TokenizationRecords, TokenizationService
from mockserver.fixtures import Fixtures, fixtures_from_json
from mockserver.services import Services
from mockserver.store import Store
from mockserver.web import MockApp

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
VENDOR = ROOT / "tests" / "data" / "vendor"  # verbatim excerpts of the vendors' pages (see its README)

# Fixture values of mockserver/data/fixtures.yaml that the tests rely on.
RAIR_OWNER = "rair-owner-token"
RAIR_COLLECTOR = "rair-collector-token"
RAIR_NETWORK = "0x89"
RAIR_CONTRACT = "0x571acc173f57c095f1f63b28f823f0f33128a6c4"
RAIR_OTHER_NETWORK = "0x1"
RAIR_OTHER_CONTRACT = "0x2f3a40a3db8a7e3d09b0adfefbce4f6f81927557"
RAIR_TOKEN_PATH = f"/api/nft/network/{RAIR_NETWORK}/{RAIR_CONTRACT}/0/token/1"

IMX_ALPHA = "sk_imapik-test-alpha-refresh"
IMX_ALPHA_READONLY = "sk_imapik-test-alpha-readonly"
IMX_BETA = "sk_imapik-test-beta-refresh"
IMX_CHAIN = "imtbl-zkevm-testnet"
IMX_COLLECTION = "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
IMX_BETA_COLLECTION = "0xe9b00a87700f660e46b6f5deaa1232836bcc07d3"
IMX_BASE = f"/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/nfts"
IMX_REFRESH = f"{IMX_BASE}/refresh-metadata"

TKN_BEARER = "tkn-admin-token"
TKN_SEED_BEARER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."
TKN_TOKEN = "67d8774e903bfcbe7eb5d93e"
TKN_OTHER_TOKEN = "67d8774e903bfcbe7eb5d950"
TKN_IMAGE_ID = "67d8774e903bfcbe7eb5d940"
TKN_DOCUMENT_ID = "67d8774e903bfcbe7eb5d941"
TKN_PATH = f"/v2/admin/token/{TKN_TOKEN}"

API_PREFIXES = {"/api/nft/": "rair", "/v1/chains/": "immutable", "/v2/admin/": "tokenization"}


# Multipart bodies


@dataclasses.dataclass
class Multipart:
    """A multipart/form-data body built part by part, including parts no well-behaved client would send."""

    boundary: str = "mockserver-test-boundary-7d9f"
    parts: list[bytes] = dataclasses.field(default_factory=list)

    def field(self, name: str, value: str | bytes) -> Multipart:
        data = value.encode() if isinstance(value, str) else value
        self.parts.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data)
        return self

    def fields(self, values: Mapping[str, str]) -> Multipart:
        for name, value in values.items():
            self.field(name, value)
        return self

    def file(self, name: str, filename: str, data: bytes, content_type: str | None = None) -> Multipart:
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        self.parts.append(head.encode() + b"\r\n" + data)
        return self

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def body(self) -> bytes:
        dash = f"--{self.boundary}".encode()
        return b"".join(dash + b"\r\n" + part + b"\r\n" for part in self.parts) + dash + b"--\r\n"

    def request_kwargs(self, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`content` and `headers` for an httpx request sending this body."""
        return {"content": self.body(), "headers": {**(headers or {}), "content-type": self.content_type}}


def rair_headers(credential: str = RAIR_OWNER) -> dict[str, str]:
    return {"x-rair-token": credential}


def imx_headers(key: str = IMX_ALPHA) -> dict[str, str]:
    return {"x-immutable-api-key": key}


def tkn_headers(bearer: str = TKN_BEARER) -> dict[str, str]:
    return {"authorization": f"Bearer {bearer}"}


def nft_item(token_id: str, **metadata: Any) -> dict[str, Any]:
    """A refresh item carrying every key the refresh schema requires."""
    item: dict[str, Any] = {
        "token_id": token_id, "name": f"NFT {token_id}", "description": "refreshed", "image": None,
        "external_url": None, "animation_url": None, "youtube_url": None, "attributes": [],
    }
    item.update(metadata)
    return item


def refresh_body(*token_ids: str, **metadata: Any) -> dict[str, Any]:
    return {"nft_metadata": [nft_item(token_id, **metadata) for token_id in token_ids]}


def compact_json(value: Any) -> str:
    """JSON as Immutable's size limits count it (compact; its UTF-8 bytes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# How a refresh body near a size limit is written, each a way its text and its compact JSON differ in length:
# as compact JSON; indented; with `d` escaped as `\u0064`; with `é` as UTF-8 (more bytes than characters); with
# `é` escaped as `\u00e9`; with an attribute value 100000.0 written `1e5` (shorter than its compact form).
SPELLINGS = ("compact", "indented", "escaped", "non-ascii", "escaped-non-ascii", "float")
ITEM_LIMIT, LIST_LIMIT = 16 * 1024, 228 * 1024


def refresh_near_item_limit(over: int, spelling: str) -> bytes:
    """A one-item refresh body whose item is `over` bytes past 16 KiB of compact JSON, written as `spelling` says."""
    attributes = [{"trait_type": "Weight", "value": 100000.0}] if spelling == "float" else []
    item = nft_item("7", description="", attributes=attributes)
    room = ITEM_LIMIT + over - len(compact_json(item).encode())
    unit = "é" if spelling in ("non-ascii", "escaped-non-ascii") else "d"
    item["description"] = unit * (room // len(unit.encode())) + "d" * (room % len(unit.encode()))
    assert len(compact_json(item).encode()) == ITEM_LIMIT + over
    return _spelt({"nft_metadata": [item]}, spelling)


def refresh_near_list_limit(over: int, spelling: str) -> bytes:
    """A 20-item refresh body `over` bytes past 228 KiB of compact JSON (every item within 16 KiB)."""
    items = [nft_item(str(n), description="") for n in range(20)]
    room = LIST_LIMIT + over - len(compact_json(items).encode())
    for n, item in enumerate(items):
        item["description"] = "d" * (room // 20 + (1 if n < room % 20 else 0))
    assert len(compact_json(items).encode()) == LIST_LIMIT + over
    return _spelt({"nft_metadata": items}, spelling)


def _spelt(body: dict[str, Any], spelling: str) -> bytes:
    if spelling == "indented":
        return json.dumps(body, indent=2, ensure_ascii=False).encode()
    if spelling == "escaped-non-ascii":
        return json.dumps(body, separators=(",", ":")).encode()  # ensure_ascii: é as \u00e9
    text = compact_json(body)
    if spelling == "escaped":
        text = text.replace('"description":"dddddddd', '"description":"' + "\\u0064" * 8)
    elif spelling == "float":
        text = text.replace("100000.0", "1e5")
    return text.encode()


# Validation against the specs


@functools.cache
def openapi(api: str) -> OpenAPI:
    """The API's spec as checked in, independent of what the server serves."""
    spec = yaml.safe_load((SPECS / f"{api}.yaml").read_text(encoding="utf-8"))
    return OpenAPI.from_dict(spec)


def api_of(path: str) -> str | None:
    return next((api for prefix, api in API_PREFIXES.items() if path.startswith(prefix)), None)


class _Request:
    """openapi-core's request protocol over a sent httpx request."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
        )

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return None  # only the response is validated; the request body may be deliberately broken

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", "")).lower()


@dataclasses.dataclass(frozen=True)
class _Response:
    """openapi-core's response protocol over a read httpx response."""

    response: httpx.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))

    @property
    def data(self) -> bytes | None:
        return self.response.content or None


class SpecViolation(AssertionError):
    """A response that its API's spec does not allow."""


def check_against_spec(response: httpx.Response) -> None:
    """Fail unless the response (status, headers, body) is one the API's spec documents for the operation.

    Responses outside the three APIs (served files) are not covered by any spec and pass unchecked.
    """
    api = api_of(response.request.url.path)
    if api is None:
        return
    result = openapi(api).unmarshal_response(_Request(response.request), _Response(response))
    if result.errors:
        details = "; ".join(f"{type(e).__name__}: {e} {getattr(e, '__cause__', '') or ''}" for e in result.errors)
        raise SpecViolation(
            f"{response.request.method} {response.request.url.path} -> {response.status_code} "
            f"breaks specs/{api}.yaml: {details}\nbody: {response.text[:500]}"
        )


class ApiClient(httpx.AsyncClient):
    """An httpx client over the app's ASGI interface that checks every API response against its spec."""

    def __init__(self, app: MockApp, *, validate: bool = True, base_url: str = "http://localhost") -> None:
        hooks = {"response": [self._validate]} if validate else {}
        super().__init__(transport=httpx.ASGITransport(app=app), base_url=base_url, event_hooks=hooks)
        self.app = app
        self.checked = 0

    async def _validate(self, response: httpx.Response) -> None:
        await response.aread()
        check_against_spec(response)
        self.checked += 1


# Assertions on error bodies


async def nft(client: ApiClient, token_id: str) -> dict[str, Any]:
    """An Immutable NFT as `GET .../nfts/{token_id}` reads it (which must answer 200)."""
    response = await client.get(f"{IMX_BASE}/{token_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def assert_error(response: httpx.Response, status: int, *words: str, field: str | None = None) -> dict[str, Any]:
    """The response is the API's own error shape with `status`, its message naming each of `words`."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    api = api_of(response.request.url.path)
    message: str = body["message"]
    if api == "rair":
        assert body["success"] is False
        assert body["error"] is True
        assert set(body) == {"success", "error", "message"}
    elif api == "immutable":
        codes = {400: "VALIDATION_ERROR", 401: "UNAUTHORISED_REQUEST", 403: "AUTHENTICATION_ERROR",
                 404: "RESOURCE_NOT_FOUND", 429: "TOO_MANY_REQUESTS_ERROR", 500: "INTERNAL_SERVER_ERROR"}
        assert body["code"] == codes[status]
        assert set(body) == {"message", "link", "trace_id", "code", "details"}
        if status == 400:
            assert isinstance(body["details"], dict)
            if field is not None:
                assert body["details"]["field"] == field, body
    elif api == "tokenization":
        assert body["status"] == status
        assert set(body) == {"status", "message", "field"}
        if field is not None:
            assert body["field"] == field, body
    else:  # pragma: no cover - every test talks to one of the APIs
        raise AssertionError(f"not an API path: {response.request.url.path}")
    lowered = message.lower()
    for word in words:
        assert word.lower() in lowered, f"message {message!r} does not mention {word!r}"
    assert "Traceback" not in message
    return body


# The APIs' records in a store, for tests that read one directly


def rair(store: Store) -> RairRecords:
    return RairRecords(store)


def imx(store: Store) -> ImmutableRecords:
    return ImmutableRecords(store)


def tkn(store: Store) -> TokenizationRecords:
    return TokenizationRecords(store)


def rair_service(services: Services) -> RairService:
    return services.service_of(rair_api.API)


def immutable_service(services: Services) -> ImmutableService:
    return services.service_of(immutable_api.API)


def tokenization_service(services: Services) -> TokenizationService:
    return services.service_of(tokenization_api.API)


def fixtures_of(store: Store) -> Fixtures:
    """The fixtures a store was last loaded from."""
    return fixtures_from_json(store.seed.document())


# State snapshots


def snapshot(app: MockApp) -> dict[str, Any]:
    """Everything a request could have stored: records of all three APIs, queued refreshes, files, quotas."""
    services = app.services
    store = services.store
    nfts = {
        (c.chain, c.address): immutable_service(services).records.nfts(c.chain, c.address, now=services.clock.time())
        for c in services.fixtures.immutable_collections
    }
    projects = sorted({k.project for k in services.fixtures.immutable_keys})
    return {
        "rair": rair_service(services).records.tokens(),
        "nfts": nfts,
        "pending_refreshes": immutable_service(services).records.pending_refreshes(),
        "tokenization": tokenization_service(services).records.tokens(),
        "blobs": len(store.blobs),
        "quota": {project: immutable_service(services).limiter.peek(project).remaining for project in projects},
    }


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def chunks(data: bytes, size: int) -> Iterable[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def rejected_without_change(app: MockApp, request: Awaitable[httpx.Response]) -> httpx.Response:
    """Send a request that must be refused and check it stored nothing: records, files, refreshes, quotas."""
    before = snapshot(app)
    response = await request
    assert 400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}: {response.text}"
    assert snapshot(app) == before, "a rejected request changed the stored state"
    return response

def alias_bomb(levels: int = 6) -> str:
    """A YAML document of `levels` nested 10x aliases: a few hundred bytes standing for 10**levels strings."""
    lines = ['a0: &a0 "xxxxxxxxxx"']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def stub_server(monkeypatch: Any) -> dict[str, Any]:
    """Make `mockserver serve` return at once instead of serving, recording the app and options it would have
    served with (and announcing the port, as the real server does once bound)."""
    from mockserver import cli
    from mockserver.web import listen

    calls: dict[str, Any] = {}

    def fake_run(app: Any, *, announce: Any, **kwargs: Any) -> bool:
        calls["app"] = app
        calls.update(kwargs)
        announce(kwargs["port"])
        return True

    monkeypatch.setattr(listen, "run_server", fake_run)
    # Not in the test process: they would outlive the test.
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)
    monkeypatch.setattr(cli, "_lean_log_records", lambda: None)
    return calls
