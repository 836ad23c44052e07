"""Deliberately broken variants of the mock, built around it here (never in mockserver/) for the self-tests.

Each wraps a fresh mock app in an ASGI middleware that corrupts requests or responses, or patches one of its
services, so that exactly one rule of the specs is broken.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]


def _is(method: str, prefix: str, scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == method and scope["path"].startswith(prefix)


def rewrite_responses(app: App, when: Callable[[Scope], bool], edit: Callable[[Response], Response]) -> App:
    """Let `app` answer, then pass matching responses through `edit` (status, headers, body)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await app(scope, receive, capture)
        status, headers, content = edit((start["status"], list(start.get("headers", [])), bytes(body)))
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return wrapped


def answer(app: App, when: Callable[[Scope], bool], status: int, body: bytes = b"",
           content_type: bytes = b"application/json") -> App:
    """Answer matching requests without asking `app` (the request body is read and dropped)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        headers = [(b"content-length", str(len(body)).encode())]
        if body:
            headers.append((b"content-type", content_type))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def rewrite_request_headers(app: App, edit: Callable[[Scope, dict[bytes, bytes]], dict[bytes, bytes]]) -> App:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = edit(scope, {k.lower(): v for k, v in scope["headers"]})
            scope = {**scope, "headers": list(headers.items())}
        await app(scope, receive, send)

    return wrapped


def set_header(response: Response, name: bytes, value: bytes | None) -> Response:
    status, headers, body = response
    headers = [(k, v) for k, v in headers if k.lower() != name]
    if value is not None:
        headers.append((name, value))
    return status, headers, body


def edit_json(response: Response, change: Callable[[Any], Any]) -> Response:
    status, headers, body = response
    return status, headers, json.dumps(change(json.loads(body))).encode()


# The variants. Each returns an ASGI app around `mock`.

def server_error_on_page_size(mock: App) -> App:
    return answer(mock, lambda s: _is("GET", "/v1/", s) and b"page_size" in s["query_string"], 500,
                  b'{"message": "boom"}')


def undocumented_status(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("GET", "/v2/admin/token/", s),
                             lambda r: (203, r[1], r[2]) if r[0] == 200 else r)


def wrong_content_type(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("GET", "/v2/admin/token/", s),
                             lambda r: set_header(r, b"content-type", b"text/plain") if r[0] == 200 else r)


def missing_rate_header(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("POST", "/v1/", s),
                             lambda r: set_header(r, b"imx-remaining-refreshes", None) if r[0] == 202 else r)


def rair_body_without_success(mock: App) -> App:
    def drop(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != "success"}

    return rewrite_responses(mock, lambda s: _is("GET", "/api/nft/", s),
                             lambda r: edit_json(r, drop) if r[0] == 200 else r)


def invalid_input_accepted(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("PUT", "/v2/admin/token/", s),
                             lambda r: (200, [], b"") if r[0] == 400 else r)


def valid_input_rejected(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("POST", "/api/nft/", s),
                             lambda r: (400, r[1], b'{"success": false, "error": true, "message": "no"}')
                             if r[0] == 200 else r)


def auth_ignored(mock: App) -> App:
    def inject(scope: Scope, headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
        if scope["path"].startswith("/v2/"):
            headers[b"authorization"] = b"Bearer tkn-admin-token"
        return headers

    return rewrite_request_headers(mock, inject)


def not_allowed_without_allow(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/v2/"),
                             lambda r: set_header(r, b"allow", None) if r[0] == 405 else r)


def wrong_allow_header(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/v2/"),
                             lambda r: set_header(r, b"allow", b"DELETE") if r[0] == 405 else r)


def non_owner_allowed(mock: App) -> App:
    def swap(scope: Scope, headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
        if headers.get(b"x-rair-token") == b"rair-collector-token":
            headers[b"x-rair-token"] = b"rair-owner-token"
        return headers

    return rewrite_request_headers(mock, swap)


def uploads_not_served(mock: App) -> App:
    return answer(mock, lambda s: _is("GET", "/files/", s), 404, b'{"status": 404}')


def stale_trace_id(mock: App) -> App:
    def fix(body: Any) -> Any:
        return {**body, "trace_id": "0123456789abcdef0123456789abcdef"} if "trace_id" in body else body

    return rewrite_responses(mock, lambda s: s["path"].startswith("/v1/"),
                             lambda r: edit_json(r, fix) if r[0] >= 400 else r)


def wrong_error_code(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/v1/"),
                             lambda r: edit_json(r, lambda b: {**b, "code": "NOT_FOUND"}) if r[0] == 404 else r)


def remaining_does_not_fall(mock: App) -> App:
    def freeze(response: Response) -> Response:
        if response[0] != 202:
            return response
        response = set_header(response, b"imx-remaining-refreshes", b"999")
        return edit_json(response, lambda b: {**b, "imx_remaining_refreshes": "999"})

    return rewrite_responses(mock, lambda s: _is("POST", "/v1/", s), freeze)


def quota_not_enforced(mock: App) -> App:
    def accept(response: Response) -> Response:
        if response[0] != 429:
            return response
        _, headers, _ = set_header(response, b"retry-after", b"0")
        values = {k.decode().lower(): v.decode() for k, v in headers}
        body = {name.replace("-", "_"): values.get(name, "") for name in
                ("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes", "retry-after")}
        return 202, headers, json.dumps(body).encode()

    return rewrite_responses(mock, lambda s: _is("POST", "/v1/", s), accept)


# Immutable: reads, pagination, credentials, bodies and timestamps.

_NFT_PATH = re.compile(r"(/v1/chains/[^/]+/collections/[^/]+/nfts/)([0-9]+)")
_LIST_PATH = re.compile(r"/v1/chains/[^/]+/collections/[^/]+/nfts")


def _is_nft(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "GET" and bool(_NFT_PATH.fullmatch(scope["path"]))


def _is_list(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "GET" and bool(_LIST_PATH.fullmatch(scope["path"]))


def _is_refresh(scope: Scope) -> bool:
    return _is("POST", "/v1/", scope) and scope["path"].endswith("/nfts/refresh-metadata")


def rewrite_scope(app: App, edit: Callable[[Scope], Scope]) -> App:
    """Change the request (path, query) before `app` sees it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        await app(edit(scope) if scope["type"] == "http" else scope, receive, send)

    return wrapped


def rewrite_request_body(app: App, when: Callable[[Scope], bool], edit: Callable[[bytes], bytes]) -> App:
    """Read a matching request's whole body, pass it through `edit`, and hand `app` the result."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = edit(b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, replay, send)

    return wrapped


def edit_nfts(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    """Apply `change` to the NFT (GetNFT) or each NFT (ListNFTs) of a 200."""
    if response[0] != 200:
        return response

    def apply(body: Any) -> Any:
        result = body.get("result")
        for nft in result if isinstance(result, list) else [result]:
            change(nft)
        return body

    return edit_json(response, apply)


def every_nft_is_the_first(mock: App) -> App:
    """Prism's example answer: GET nfts/{any id} is NFT 1."""

    def first(scope: Scope) -> Scope:
        match = _NFT_PATH.fullmatch(scope["path"]) if scope["method"] == "GET" else None
        if match is None:
            return scope
        path = match.group(1) + "1"
        return {**scope, "path": path, "raw_path": path.encode()}

    return rewrite_scope(mock, first)


def refresh_touches_neighbour(mock: App) -> App:
    """A refresh of token n alone also writes its metadata into token n+1 (an off-by-one in a batch update)."""

    def widen(body: bytes) -> bytes:
        try:
            [item] = json.loads(body)["nft_metadata"]
            neighbour = {**item, "token_id": str(int(item["token_id"]) + 1)}
        except (ValueError, KeyError, TypeError):
            return body
        return json.dumps({"nft_metadata": [item, neighbour]}).encode()

    return rewrite_request_body(mock, _is_refresh, widen)


def stale_nft_reads(mock: App) -> App:
    """Every third read of an NFT answers the version before the one it last answered (a lagging replica)."""
    versions: dict[str, list[bytes]] = {}
    reads: dict[str, int] = {}

    def lag(scope: Scope) -> Callable[[Response], Response]:
        def edit(response: Response) -> Response:
            path = scope["path"]
            history = versions.setdefault(path, [])
            if response[0] == 200 and (not history or history[-1] != response[2]):
                history.append(response[2])
            reads[path] = reads.get(path, 0) + 1
            if reads[path] % 3 == 0 and len(history) >= 2:
                return response[0], response[1], history[-2]
            return response

        return edit

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_nft(scope):
            await rewrite_responses(mock, _is_nft, lag(scope))(scope, receive, send)
        else:
            await mock(scope, receive, send)

    return wrapped


def read_time_in_updated_at(mock: App) -> App:
    """`updated_at` is the time of the read instead of the last update."""

    def stamp(nft: dict[str, Any]) -> None:
        nft["updated_at"] = datetime.now(tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    return rewrite_responses(mock, lambda s: _is_nft(s) or _is_list(s), lambda r: edit_nfts(r, stamp))


def frozen_metadata_synced_at(mock: App) -> App:
    """`metadata_synced_at` never moves from the first sync."""

    def freeze(nft: dict[str, Any]) -> None:
        nft["metadata_synced_at"] = "2024-01-01T00:00:00.000000Z"

    return rewrite_responses(mock, lambda s: _is_nft(s) or _is_list(s), lambda r: edit_nfts(r, freeze))


def list_page_repeats_item(mock: App) -> App:
    """A page of two or more NFTs ends with its first NFT again (an unstable sort under the cursor)."""

    def repeat(body: Any) -> Any:
        result = body["result"]
        if len(result) >= 2:
            result[-1] = result[0]
        return body

    return rewrite_responses(mock, _is_list, lambda r: edit_json(r, repeat) if r[0] == 200 else r)


def list_cursor_never_ends(mock: App) -> App:
    """The last page hands out a cursor back to the first page instead of null."""
    restart = base64.b64encode(json.dumps({"type": "next", "item": {"id": 0}}).encode()).decode()

    def endless(body: Any) -> Any:
        if body["page"]["next_cursor"] is None:
            body["page"]["next_cursor"] = restart
        return body

    return rewrite_responses(mock, _is_list, lambda r: edit_json(r, endless) if r[0] == 200 else r)


def _edit_query(scope: Scope, change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> Scope:
    if not _is_list(scope):
        return scope
    query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
    return {**scope, "query_string": urlencode(change(query)).encode()}


def collection_in_path_ignored(mock: App) -> App:
    """Every collection address in a path is read as the one collection the server holds for the chain."""
    known = "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"

    def redirect(scope: Scope) -> Scope:
        parts = scope["path"].split("/")
        if scope["path"].startswith("/v1/chains/") and len(parts) > 5 and parts[4] == "collections":
            path = "/".join([*parts[:5], known, *parts[6:]])
            return {**scope, "path": path, "raw_path": path.encode()}
        return scope

    return rewrite_scope(mock, redirect)


def list_token_filter_ignored(mock: App) -> App:
    return rewrite_scope(mock, lambda s: _edit_query(s, lambda q: [(k, v) for k, v in q if k != "token_id"]))


def list_updated_filter_ignored(mock: App) -> App:
    return rewrite_scope(mock, lambda s: _edit_query(s, lambda q: [(k, v) for k, v in q if k != "from_updated_at"]))


def list_page_size_ignored(mock: App) -> App:
    return rewrite_scope(mock, lambda s: _edit_query(s, lambda q: [(k, v) for k, v in q if k != "page_size"]))


def list_page_size_clamped(mock: App) -> App:
    """An out-of-range page_size is clamped to 1..200 instead of rejected."""

    def clamp(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, str(min(200, max(1, int(v)))) if k == "page_size" and v.lstrip("-").isdigit() else v)
                for k, v in query]

    return rewrite_scope(mock, lambda s: _edit_query(s, clamp))


def api_key_scheme_ignored(mock: App) -> App:
    """`x-immutable-api-key: Bearer <key>` is read as the key."""

    def strip(scope: Scope, headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
        key = headers.get(b"x-immutable-api-key")
        if key is not None and b" " in key:
            headers[b"x-immutable-api-key"] = key.split(b" ", 1)[1]
        return headers

    return rewrite_request_headers(mock, strip)


def immutable_errors_as_text(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/v1/"),
                             lambda r: set_header(r, b"content-type", b"text/plain; charset=utf-8")
                             if r[0] >= 400 else r)


def retry_after_past_reset(mock: App) -> App:
    """A 429's Retry-After ten minutes later than the reset header says."""

    def skew(response: Response) -> Response:
        if response[0] != 429:
            return response
        value = {k.lower(): v for k, v in response[1]}.get(b"retry-after", b"0")
        return set_header(response, b"retry-after", str(int(value) + 600).encode())

    return rewrite_responses(mock, _is_refresh, skew)


def tokenization_update_dropped(mock: App) -> App:
    return answer(mock, lambda s: _is("PUT", "/v2/admin/token/", s), 200)


def stale_reads(app: App, prefix: str) -> App:
    """Every third GET under `prefix` answers the version of the resource before the latest one it served."""
    versions: dict[str, list[bytes]] = {}
    reads = 0

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if not _is("GET", prefix, scope):
            await app(scope, receive, send)
            return

        def serve_stale(response: Response) -> Response:
            nonlocal reads
            status, headers, body = response
            seen = versions.setdefault(scope["path"], [])
            if status == 200 and (not seen or seen[-1] != body):
                seen.append(body)
            reads += 1
            return status, headers, seen[-2] if reads % 3 == 0 and len(seen) > 1 else body

        await rewrite_responses(app, lambda _: True, serve_stale)(scope, receive, send)

    return wrapped


# RAIR variants of the rules the behaviour checks state.

def rair_unknown_token_updated(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("POST", "/api/nft/", s),
                             lambda r: (200, r[1], b'{"success": true, "token": {}}') if r[0] == 404 else r)


def rair_stale_reads(mock: App) -> App:
    return stale_reads(mock, "/api/nft/")


def rair_credential_in_authorization(mock: App) -> App:
    def move(scope: Scope, headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
        value = headers.get(b"authorization", b"")
        if b"x-rair-token" not in headers and value.lower().startswith(b"bearer "):
            headers[b"x-rair-token"] = value[len(b"bearer "):]
        return headers

    return rewrite_request_headers(mock, move)


def rair_read_needs_credential(mock: App) -> App:
    """The mock as it was before issue 12: a GET without a known x-rair-token is 401."""

    def anonymous_read(scope: Scope) -> bool:
        headers = dict(scope["headers"])
        return _is("GET", "/api/nft/", scope) and headers.get(b"x-rair-token") not in (b"rair-owner-token",
                                                                                        b"rair-collector-token")

    return answer(mock, anonymous_read, 401, b'{"success": false, "error": true, "message": "Unauthorized"}')


def files_served_as_png(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("GET", "/files/", s),
                             lambda r: set_header(r, b"content-type", b"image/png") if r[0] == 200 else r)


def rair_errors_as_text(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/api/nft/"),
                             lambda r: set_header(r, b"content-type", b"text/plain") if r[0] >= 400 else r)


# Tokenization variants.

def tokenization_unknown_token_updated(mock: App) -> App:
    known = ("/v2/admin/token/67d8774e903bfcbe7eb5d93e", "/v2/admin/token/67d8774e903bfcbe7eb5d950")
    return answer(mock, lambda s: _is("PUT", "/v2/admin/token/", s) and s["path"] not in known, 200)


def tokenization_stale_reads(mock: App) -> App:
    return stale_reads(mock, "/v2/admin/token/")


def percentage_rounded(mock: App) -> App:
    """salable_percentage just over 100 is accepted as 100 (the value rounded before it is validated)."""
    pattern = re.compile(rb'(name="salable_percentage"\r\n\r\n)100\.[0-9]+')
    return rewrite_request_body(mock, lambda s: _is("PUT", "/v2/admin/token/", s),
                                lambda body: pattern.sub(rb"\g<1>100", body))


def bearer_scheme_optional(mock: App) -> App:
    def add_scheme(scope: Scope, headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
        value = headers.get(b"authorization")
        if value is not None and b" " not in value:
            headers[b"authorization"] = b"Bearer " + value
        return headers

    return rewrite_request_headers(mock, add_scheme)


def files_served_as_octet_stream(mock: App) -> App:
    return rewrite_responses(mock, lambda s: _is("GET", "/files/", s),
                             lambda r: set_header(r, b"content-type", b"application/octet-stream")
                             if r[0] == 200 else r)


def empty_200_as_json(mock: App) -> App:
    def as_json(response: Response) -> Response:
        if response[0] != 200:
            return response
        return set_header((200, response[1], b"{}"), b"content-type", b"application/json")

    return rewrite_responses(mock, lambda s: _is("PUT", "/v2/admin/token/", s), as_json)


def error_status_mismatch(mock: App) -> App:
    return rewrite_responses(mock, lambda s: s["path"].startswith("/v2/"),
                             lambda r: edit_json(r, lambda b: {**b, "status": 400}) if r[0] > 400 else r)


def updated_at_frozen(mock: App) -> App:
    return rewrite_responses(
        mock, lambda s: _is("GET", "/v2/admin/token/", s),
        lambda r: edit_json(r, lambda b: {**b, "updated_at": "2026-01-01T00:00:00.000000Z"}) if r[0] == 200 else r,
    )


def stacked_unknown_metadata_accepted(mock: App) -> App:
    """A stacked refresh naming metadata the collection does not have is answered 202 instead of 404."""
    return rewrite_responses(
        mock, lambda s: _is("POST", "/v1/chains/", s) and s["path"].endswith("/metadata/refresh-metadata"),
        lambda r: (202, r[1], b"{}") if r[0] == 404 else r)
