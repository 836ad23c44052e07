"""At most N large request bodies in flight at once: the rest wait a bounded time, then get 503.

An upload is held in memory while it is validated (up to its endpoint's cap), so without a bound ten
concurrent 24 MiB uploads grew the server by 181 MB. A request holds a slot from before its body is read until
its response is sent; a request that waits holds only what uvicorn buffers before it pauses reading (64 KiB).
"""

from __future__ import annotations

import asyncio
import math
import weakref

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import ApiError
from mockserver.services import Services
from mockserver.web.bodylimit import BODY_METHODS


class LargeBodySlots:
    """One count of large bodies in flight for the whole server (every Connexion app shares it)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # A semaphore belongs to the event loop it first waits on; a server runs one loop, tests may run several.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.capacity)
        return semaphore


class LargeBodySlotMiddleware:
    """Holds one of the server's `LargeBodySlots` for each request whose body is large or of unknown length."""

    def __init__(self, app: ASGIApp, slots: LargeBodySlots, services: Services) -> None:
        self.app = app
        self.slots = slots
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.services.settings.clients  # read per request: the admin API may change them
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not _large(scope, limits.large_body_bytes):
            await self.app(scope, receive, send)
            return
        semaphore = self.slots.semaphore()
        wait = limits.large_body_wait
        try:
            async with asyncio.timeout(wait):
                await semaphore.acquire()
        except TimeoutError:
            raise ApiError(503, f"The server is receiving {self.slots.capacity} large requests already; retry "
                                f"shortly.", headers={"Retry-After": str(max(1, math.ceil(wait)))}) from None
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()


def _large(scope: Scope, threshold: int) -> bool:
    declared = Headers(scope=scope).get("content-length")
    if declared is None:
        return True  # chunked: its length is known only once it has been read
    return not (declared.isascii() and declared.isdigit()) or int(declared) > threshold
