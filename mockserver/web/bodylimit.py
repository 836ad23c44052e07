"""Caps on request size, enforced while the body streams in so an oversized upload is never held whole."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import api_for_path
from mockserver.errors import ApiError

Cap = Callable[[str, str], int]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyLimitMiddleware:
    """Refuse a request whose body exceeds its route's cap: at once by Content-Length, else as bytes arrive.

    The error is raised as `ApiError` with the API's oversize status, for the error handler to render.
    """

    def __init__(self, app: ASGIApp, cap: Cap) -> None:
        self.app = app
        self.cap = cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        limit = self.cap(method, path)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise _too_large(path, limit)
        if declared is None and method in BODY_METHODS:
            # A chunked body: Connexion's validators take a body without Content-Length for no body at all,
            # so read it here (up to the cap) and pass it on with its length.
            body = await _read_capped(receive, path, limit)
            if body is None:
                return  # the client went away
            framing = (b"content-length", b"transfer-encoding")
            headers = [(k, v) for k, v in scope["headers"] if k not in framing]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
            receive = replay([{"type": "http.request", "body": body, "more_body": False}], receive)
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(path, limit)
            return message

        await self.app(scope, counted_receive, send)


async def _read_capped(receive: Receive, path: str, limit: int) -> bytes | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            raise _too_large(path, limit)
        if not message.get("more_body", False):
            return bytes(body)


def replay(received: list[Message], receive: Receive) -> Receive:
    """A receive that gives the messages already taken from `receive` again, then goes on with it."""
    pending = list(received)

    async def replaying() -> Message:
        return pending.pop(0) if pending else await receive()

    return replaying


def _too_large(path: str, limit: int) -> ApiError:
    api = api_for_path(path)
    status = api.oversize_status if api is not None else 413
    return ApiError(status, f"Request body is larger than this endpoint accepts ({limit} bytes).")
