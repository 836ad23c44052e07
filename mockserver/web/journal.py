"""Records each exchange with the three APIs in the journal, as the client saw it."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import Api
from mockserver.services import Services
from mockserver.violations import SCOPE_KEY as VIOLATIONS
from mockserver.web.controls import operation_id

CAPTURE = 64 * 1024


class JournalMiddleware:
    """Wraps all of an API's app (so errors from any layer are recorded); keeps at most 64 KiB of each body."""

    def __init__(self, app: ASGIApp, services: Services, api: Api[Any]) -> None:
        """`app`: what serves `api`'s HTTP requests, and nothing else."""
        self.app = app
        self.services = services
        self.api_name = api.name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Connexion routes on a shallow copy of the scope; a dict already here is shared, so the operation
        # it matches can be read back after the call.
        scope.setdefault("extensions", {})
        started = time.perf_counter()
        at = self.services.clock.time()
        # The first 64 KiB of each body, as the pieces it came in: one piece, as most bodies are, is kept without
        # a copy, and many small ones are joined once.
        request_body = _Capture()
        response_body = _Capture()
        status = 500
        response_headers: list[tuple[bytes, bytes]] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.add(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response_body.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            self.services.journal.record((  # `JournalEntry`'s fields, in order
                at, self.api_name, operation_id(scope),  # time, api, operation
                scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),  # method, path, query
                scope["headers"], request_body.kept(), status, response_headers, response_body.kept(),
                (time.perf_counter() - started) * 1000, scope["extensions"].get(VIOLATIONS),  # duration_ms, violations
            ))


class _Capture:
    """The first `CAPTURE` bytes of a body that comes in pieces."""

    __slots__ = ("pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        if self.size < CAPTURE and piece:
            piece = piece[: CAPTURE - self.size]
            self.pieces.append(piece)
            self.size += len(piece)

    def kept(self) -> bytes:
        return self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)
