"""What a user controls per request or per operation: `Prefer` (as Stoplight Prism reads it), injected
latency and errors, and extra rate limits. All need the operation, so they run after Connexion's routing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import Api
from mockserver.errors import ApiError
from mockserver.openapi import RouteTable
from mockserver.services import Services

ROUTING = "connexion_routing"


def operation_id(scope: Scope) -> str | None:
    """The operationId Connexion's routing matched for this request, if any."""
    routing: Mapping[str, Any] = scope.get("extensions", {}).get(ROUTING, {})
    return routing.get("operation_id")


def parse_prefer(header: str | None) -> dict[str, str]:
    """RFC 7240 preferences as name -> value (`code=404, example=empty` gives both)."""
    preferences: dict[str, str] = {}
    for token in (header or "").replace(";", ",").split(","):
        name, _, value = token.strip().partition("=")
        if name:
            preferences[name.strip().lower()] = value.strip().strip('"')
    return preferences


class ControlsMiddleware:
    """Answer a `Prefer: code=` / `example=` the operation documents, and inject configured faults."""

    def __init__(self, app: ASGIApp, services: Services, api: Api[Any], routes: RouteTable) -> None:
        self.app = app
        self.services = services
        self.api = api
        self.responses: dict[str, Mapping[str, Any]] = {
            operation_id: operation.get("responses", {}) for operation_id, operation in routes.operations.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_id(scope) if scope["type"] == "http" else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        await self._inject_faults(operation)
        prefer = parse_prefer(Headers(scope=scope).get("prefer"))
        if "code" in prefer or "example" in prefer:
            example = self._preferred(operation, prefer)
            if example is not None:
                status, body = example
                await _send_json(send, status, body, {"Preference-Applied": _applied(prefer)})
                return
        await self.app(scope, receive, send)

    async def _inject_faults(self, operation: str) -> None:
        faults = self.services.settings.faults.for_operation(self.api.name, operation)
        if not faults.active:
            return
        delay = faults.latency_ms
        if faults.latency_max_ms is not None:
            delay = self.services.random.uniform(faults.latency_ms, faults.latency_max_ms)
        if delay > 0:
            await self.services.sleep(delay / 1000)
        if faults.error_rate > 0 and self.services.random.random() < faults.error_rate:
            raise ApiError(faults.error_status, f"Injected fault: {operation} is configured to fail "
                                                f"{faults.error_rate:.0%} of requests with {faults.error_status}.")

    def _preferred(self, operation: str, prefer: Mapping[str, str]) -> tuple[int, Any] | None:
        """A documented example to send as is, None to run the operation; raises the forced error status."""
        responses = self.responses.get(operation, {})
        documented = sorted(str(code) for code in responses)
        code = prefer.get("code")
        if code is not None and code not in documented:
            raise ApiError(400, f"Prefer: code={code} is not a documented response of {operation}; documented: "
                                f"{', '.join(documented)}.", field="Prefer")
        if "example" in prefer:
            return self._named_example(operation, responses, prefer["example"], code)
        assert code is not None
        status = int(code)
        if status < 400:
            return None  # A success is the operation's real behaviour: run it.
        raise ApiError(status, f"Forced by Prefer: code={status}.", headers=self._forced_headers(status))

    def _named_example(self, operation: str, responses: Mapping[str, Any], name: str,
                       code: str | None) -> tuple[int, Any]:
        available = []
        for status, response in responses.items():
            if code is not None and str(status) != code:
                continue
            for media in response.get("content", {}).values():
                examples = media.get("examples", {})
                available.extend(examples)
                if name in examples and "value" in examples[name]:
                    return int(status), examples[name]["value"]
        raise ApiError(400, f"Prefer: example={name} names no example of {operation}; available: "
                            f"{', '.join(sorted(available)) or 'none'}.", field="Prefer")

    def _forced_headers(self, status: int) -> dict[str, str]:
        headers = {"Preference-Applied": f"code={status}"}
        if status == 429 and self.api.forced_429_headers is not None:
            headers.update(self.api.forced_429_headers(self.services.service_of(self.api)))
        elif status == 429:
            headers["Retry-After"] = "1"
        return headers


class OperationLimitMiddleware:
    """Extra per-operation limits, keyed by credential or client address, with IETF RateLimit headers.

    Sits after validation (Connexion's BEFORE_CONTEXT) so only requests the API would serve are counted.
    """

    def __init__(self, app: ASGIApp, services: Services, api: Api[Any]) -> None:
        self.app = app
        self.services = services
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_id(scope) if scope["type"] == "http" else None
        limiter = self.services.operation_limiter(self.api.name, operation) if operation else None
        if limiter is None or operation is None:
            await self.app(scope, receive, send)
            return
        name = f"{self.api.name}/{operation}"
        setting = self.services.settings.operation_limits.get(name) or self.services.settings.operation_limits["*"]
        accepted, quota = limiter.hit(self._key(scope, setting.key))
        seconds = quota.seconds_to_reset(self.services.clock.time())
        policy = f'"{name}";q={quota.limit};w={limiter.settings.window}'
        headers = {"RateLimit-Policy": policy, "RateLimit": f'"{name}";r={quota.remaining};t={seconds}'}
        if not accepted:
            raise ApiError(429, f"Too many requests to {operation}: the limit is {quota.limit} per "
                                f"{limiter.settings.window} s; retry in {seconds} s.",
                           headers={**headers, "Retry-After": str(seconds)})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for header, value in headers.items():
                    response_headers[header] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _key(self, scope: Scope, key: str) -> str:
        if key == "client":
            client = scope.get("client")
            return f"client:{client[0] if client else 'unknown'}"
        credential = Headers(scope=scope).get(self.api.credential_header, "")
        # The limiter's storage may be shared (Redis): keep credentials out of it.
        return "credential:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


def _applied(prefer: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in prefer.items() if name in ("code", "example"))


async def _send_json(send: Send, status: int, body: Any, headers: Mapping[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})

