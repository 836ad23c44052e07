"""A request body that stops arriving, or takes too long in all, is cut off: 408 in the API's shape, and the
connection closed.

uvicorn bounds idle keep-alive connections but not a request whose body stalls half way: the handler would
wait on `receive()` for ever, holding its connection, its task and what it has read so far.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import ApiError
from mockserver.services import Services


class BodyTimeoutMiddleware:
    """Each wait for more of a request body is bounded by the `body_timeout` setting, and the whole body by
    `body_deadline` seconds from the request's start (both read per request, so the admin API can change them);
    past either, this and every later `receive()` raise a 408 `ApiError`.

    The gap alone would let a client that sends a byte just inside it hold its request (and its large-body
    slot) for ever. Only the body is bounded: once it is complete, `receive()` waits for the client to
    disconnect, which may rightly take as long as the response does.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clients = self.services.settings.clients
        seconds, deadline = clients.body_timeout, clients.body_deadline
        loop = asyncio.get_running_loop()
        ends = loop.time() + deadline
        body_done = False
        timed_out: ApiError | None = None

        async def bounded_receive() -> Message:
            nonlocal body_done, timed_out
            if timed_out is not None:
                raise timed_out
            if body_done:
                return await receive()
            now = loop.time()
            try:
                # At a loop time rather than after a delay: `asyncio.timeout` would read the loop's clock again.
                async with asyncio.timeout_at(min(now + seconds, ends)):
                    message = await receive()
            except TimeoutError:
                reason = (f"The request body took longer than {deadline:g} s to arrive." if ends - now < seconds
                          else f"The request body stopped arriving: no bytes for {seconds:g} s.")
                timed_out = ApiError(408, reason, headers={"Connection": "close"})
                raise timed_out from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, bounded_receive, send)
