"""The validating proxy: requests to the APIs' paths go to an upstream server, and each exchange is checked.

The request is streamed to the upstream as it arrives (within the same size caps as the mock's), the upstream's
answer comes back with its status, headers and body unchanged, plus `X-Mock-Violations: <count>` and, when
there are any, `X-Mock-Violations-Summary`. The response body is read whole before it is sent: the count has to
go in the headers, and the checks need the body. Bodies come back decoded (without `Content-Encoding`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
from starlette.types import Receive, Scope, Send

from conformance.traffic import HttpExchange, TrafficChecker, Violation
from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.recording import Recording
from mockserver.services import Services
from mockserver.settings import MiB, Settings
from mockserver.violations import SCOPE_KEY
from mockserver.web.app import MockApp
from mockserver.web.bodylimit import BodyLimitMiddleware, Cap
from mockserver.web.controls import ROUTING
from mockserver.web.cors import send_with_cors
from mockserver.web.errors import error_response

VIOLATIONS_HEADER = "X-Mock-Violations"
SUMMARY_HEADER = "X-Mock-Violations-Summary"
# Connection-level headers (RFC 9110 7.6.1) and what is recomputed for the body as sent: never forwarded.
_HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
    b"proxy-authenticate", b"proxy-authorization",
})
_NOT_FORWARDED = _HOP_BY_HOP | {b"host"}
_NOT_RETURNED = _HOP_BY_HOP | {b"content-length", b"content-encoding"}
# Past this a slow upstream is a 502: long enough for any of these APIs, short enough not to hold a client for ever.
UPSTREAM_TIMEOUT = 30.0
_SUMMARY_LIMIT = 400
# Each answer is held whole to be checked: none of these APIs answers anywhere near this much.
UPSTREAM_BODY_CAP = 64 * MiB


class Proxy:
    """An ASGI app forwarding every request it is given to `upstream`, and checking each exchange."""

    def __init__(self, upstream: str, services: Services, *, cap: Cap,
                 checker: TrafficChecker | None = None, recording: Recording | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.services = services
        self.checker = checker or TrafficChecker()
        self.recording = recording
        self._client = httpx.AsyncClient(transport=transport, timeout=UPSTREAM_TIMEOUT, follow_redirects=False)
        self._capped = BodyLimitMiddleware(self._forward, cap=cap)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._capped(scope, receive, send)
        except ApiError as error:
            # The proxy's own answer (an unreachable upstream, a body over the cap): the upstream's CORS headers
            # are not there to pass on, so the mock's are.
            await send_with_cors(scope, receive, send, error_response(scope["path"], error),
                                 self.services.settings.cors_origins)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        started_at = datetime.fromtimestamp(self.services.clock.time(), UTC)
        started = time.perf_counter()
        request_body = bytearray()

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunk = message.get("body", b"")
                request_body.extend(chunk)
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        query = scope.get("query_string", b"")
        url = self.upstream + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        headers = [(name, value) for name, value in scope["headers"] if name.lower() not in _NOT_FORWARDED]
        # A body is framed by Content-Length (a chunked one was given one by the size cap): none, none sent.
        has_body = any(name.lower() == b"content-length" for name, _ in headers)
        request = self._client.build_request(
            scope["method"], url + ("?" + query.decode("latin-1") if query else ""), headers=headers,
            content=body() if has_body else None)
        try:
            response = await self._client.send(request, stream=True)
            try:
                content = await _read_capped(response)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise ApiError(502, f"The upstream {self.upstream} could not be reached: {_reason(exc)}.") from None
        if content is None:
            raise ApiError(502, f"The upstream {self.upstream} answered more than {UPSTREAM_BODY_CAP} bytes, "
                                "more than the proxy holds to check.")
        exchange = HttpExchange(
            method=scope["method"], path=scope["path"], query=query.decode("latin-1"),
            request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            request_body=bytes(request_body), status=response.status_code,
            response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
                              if k.lower() not in _NOT_RETURNED],
            response_body=content,
        )
        violations = self.checker.check(exchange)
        found = [violation.as_dict() for violation in violations]
        operation = self.checker.operation_of(exchange.method, exchange.path)
        extensions = scope.setdefault("extensions", {})
        extensions[SCOPE_KEY] = found
        # Where the journal finds the operation Connexion matched; here the spec's finder matched it.
        extensions.setdefault(ROUTING, {})["operation_id"] = operation
        self.services.violations.record(found)
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.response_headers]
        # A HEAD answer has no body, but says how long the GET's would be.
        length = response.headers.get("content-length", "0") if scope["method"] == "HEAD" else len(content)
        raw += [(b"content-length", str(length).encode()),
                (VIOLATIONS_HEADER.lower().encode(), str(len(violations)).encode())]
        if violations:
            raw.append((SUMMARY_HEADER.lower().encode(), summary(violations).encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": response.status_code, "headers": _exposing_ours(raw)})
        await send({"type": "http.response.body", "body": content})
        if self.recording is not None:
            self.recording.add(exchange, operation=operation,
                               started=started_at, duration_ms=(time.perf_counter() - started) * 1000)

    def __repr__(self) -> str:
        return f"Proxy(upstream={self.upstream!r})"


async def _read_capped(response: httpx.Response) -> bytes | None:
    """The decoded body, or None past `UPSTREAM_BODY_CAP` bytes (the rest is never read)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > UPSTREAM_BODY_CAP:
            return None
    return bytes(body)


def summary(violations: list[Violation]) -> str:
    """`rule: message; rule: message`, on one header line of at most a few hundred characters."""
    text = "; ".join(f"{v.rule.name}: {v.message}" for v in violations)
    text = " ".join(text.split())  # no line breaks in a header
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3] + "..."


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {UPSTREAM_TIMEOUT:g} s"
    return str(exc) or type(exc).__name__


def create_proxy_app(upstream: str, settings: Settings | None = None, *, recording: Recording | None = None,
                     clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None) -> MockApp:
    """The mock's server with every request to the APIs' paths sent on to `upstream` and checked; the admin API,
    the page, the specs and their Swagger UIs are the mock's own.

    `transport`: how to reach the upstream (tests pass an in-process one)."""
    return MockApp(settings, clock=clock, proxy=lambda services, cap: Proxy(
        upstream, services, cap=cap, recording=recording, transport=transport))


def _exposing_ours(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers, with the proxy's own named in `Access-Control-Expose-Headers` when the upstream's answer is
    readable cross-origin: a web page calling through the proxy could otherwise not read what it found."""
    names = [name.lower() for name, _ in raw]
    if b"access-control-allow-origin" not in names:
        return raw
    ours = b", ".join(header.encode() for header in (VIOLATIONS_HEADER, SUMMARY_HEADER))
    if b"access-control-expose-headers" not in names:
        return [*raw, (b"access-control-expose-headers", ours)]
    return [(name, (value + b", " + ours if value.strip() else ours)
             if name.lower() == b"access-control-expose-headers" else value) for name, value in raw]
