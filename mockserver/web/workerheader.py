"""`X-Mock-Worker: <pid>` on every response (the `worker_header` setting), to see which process answered."""

from __future__ import annotations

import os

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKER_HEADER = "X-Mock-Worker"


class WorkerHeaderMiddleware:
    """Adds `X-Mock-Worker: <pid>` to every response, to see which process answered (`worker_header` setting)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(WORKER_HEADER, self.pid)
            await send(message)

        await self.app(scope, receive, send_with_header)
