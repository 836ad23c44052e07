"""A request body that stops arriving, or takes too long in all, is cut off: 408 in the API's shape, and the
connection closed.

uvicorn bounds idle keep-alive connections but not a request whose body stalls half way: the handler would
wait on `receive()` for ever, holding its connection, its task and what it has read so far.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Protocol

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

    def __init__(self, app: ASGIApp, services: Services, watchdogs: Watchdogs) -> None:
        """`watchdogs`: shared by the instances in front of one server's apps, so that a loop has one timer."""
        self.app = app
        self.services = services
        self.watchdogs = watchdogs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clients = self.services.settings.clients
        seconds, deadline = clients.body_timeout, clients.body_deadline
        loop = asyncio.get_running_loop()
        watchdog = self.watchdogs.of(loop)
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
            task = asyncio.current_task()
            assert task is not None  # an ASGI app runs in a task
            watchdog.watch(task, min(now + seconds, ends))
            try:
                message = await receive()
            except asyncio.CancelledError:
                if not watchdog.expired(task):
                    raise
                reason = (f"The request body took longer than {deadline:g} s to arrive." if ends - now < seconds
                          else f"The request body stopped arriving: no bytes for {seconds:g} s.")
                timed_out = ApiError(408, reason, headers={"Connection": "close"})
                raise timed_out from None
            finally:
                watchdog.unwatch(task)
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, bounded_receive, send)


class Watchdogs:
    """The watchdog of the loop that served the last request."""

    def __init__(self) -> None:
        # Read and replaced as one tuple: a server thread and a test's own loop may share an app.
        self._last: tuple[asyncio.AbstractEventLoop | None, Watchdog | None] = (None, None)

    def of(self, loop: asyncio.AbstractEventLoop) -> Watchdog:
        known, watchdog = self._last
        if known is not loop or watchdog is None:
            watchdog = Watchdog(loop)
            self._last = (loop, watchdog)
        return watchdog


class _Loop(Protocol):
    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[float], object], armed_for: float, /) -> object: ...


class _Cancellable(Protocol):
    def cancel(self, msg: str | None = None) -> bool: ...

    def cancelling(self) -> int: ...

    def uncancel(self) -> int: ...


class Watchdog:
    """One timer for all of a loop's waits for a body, armed for the earliest of their deadlines.

    `asyncio.timeout` around each wait arms and cancels a timer of its own, a tenth of a small request's CPU time,
    though nearly every wait ends at once (the body came with the head). Here a wait costs an entry in a dict; the
    timer, once armed, fires about once per timeout while requests keep coming, cancels the tasks whose deadline
    has passed and re-arms for the next. Cancelling and taking the cancellation back follow `asyncio.timeout`.
    """

    def __init__(self, loop: _Loop) -> None:
        self._loop = loop
        # Each wait's deadline, and how many cancellations its task had pending when it began.
        self._waits: dict[_Cancellable, tuple[float, int]] = {}
        self._expired: dict[_Cancellable, int] = {}
        self._armed_for = math.inf

    def watch(self, task: _Cancellable, deadline: float) -> None:
        """Cancel `task` at loop time `deadline` unless it is unwatched before."""
        self._waits[task] = (deadline, task.cancelling())
        if deadline < self._armed_for:  # only when a setting was shortened: the timer is usually armed earlier
            self._arm(deadline)

    def unwatch(self, task: _Cancellable) -> None:
        """The wait ended. Had it been cancelled here yet ended otherwise (something under it swallowed the
        cancellation), the cancellation is taken back, as `asyncio.timeout` does on leaving."""
        del self._waits[task]
        if self._expired and self._expired.pop(task, None) is not None:
            task.uncancel()

    def expired(self, task: _Cancellable) -> bool:
        """Whether the `CancelledError` in `task`'s wait came from here alone: if so the cancellation is taken back,
        so that the task can go on to answer 408. One someone else asked for too (a server shutting down) stands."""
        pending = self._expired.pop(task, None)
        return pending is not None and task.uncancel() <= pending

    def _arm(self, deadline: float) -> None:
        self._armed_for = deadline
        self._loop.call_at(deadline, self._fire, deadline)

    def _fire(self, armed_for: float) -> None:
        if armed_for != self._armed_for:  # a timer superseded by one for a shorter deadline
            return
        now = self._loop.time()
        earliest = math.inf
        for task, (deadline, pending) in list(self._waits.items()):
            if deadline <= now:
                if task not in self._expired:
                    self._expired[task] = pending
                    task.cancel()
            else:
                earliest = min(earliest, deadline)
        self._armed_for = math.inf
        if earliest < math.inf:  # a loop may fire a timer a hair early: then the same deadline again
            self._arm(earliest)
