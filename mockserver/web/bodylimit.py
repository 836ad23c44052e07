"""Caps on request size, enforced while the body streams in so an oversized upload is never held whole."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import api_for_path
from mockserver.errors import ApiError

Cap = Callable[[str, str], int]


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
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(path, limit)
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


def _too_large(path: str, limit: int) -> ApiError:
    api = api_for_path(path)
    status = api.oversize_status if api is not None else 413
    return ApiError(status, f"Request body is larger than this endpoint accepts ({limit} bytes).")
