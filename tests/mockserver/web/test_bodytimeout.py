"""The body-timeout watchdog: one timer for every wait for a body, each wait cut off at its own deadline.

The loop and the tasks are stand-ins with a clock the test moves, so each case is exact and nothing waits;
`test_slow_clients.py` covers the same timeouts end to end, over sockets, against a real server.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

import pytest

from mockserver.web.bodytimeout import Watchdog


class FakeLoop:
    """What the watchdog uses of an event loop: its time, and timers run by `advance`."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, int, Callable[[float], object], float]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[float], object], armed_for: float, /) -> None:
        heapq.heappush(self.timers, (when, next(self._order), callback, armed_for))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while self.timers and self.timers[0][0] <= self.now:
            _, _, callback, armed_for = heapq.heappop(self.timers)
            callback(armed_for)


class FakeTask:
    def __init__(self) -> None:
        self.cancels = 0

    def cancel(self, msg: str | None = None) -> bool:
        self.cancels += 1
        return True

    def cancelling(self) -> int:
        return self.cancels

    def uncancel(self) -> int:
        self.cancels -= 1
        return self.cancels


@pytest.fixture
def loop() -> FakeLoop:
    return FakeLoop()


@pytest.fixture
def watchdog(loop: FakeLoop) -> Watchdog:
    return Watchdog(loop)


def test_a_wait_past_its_deadline_is_cancelled_and_reported_expired(loop: FakeLoop, watchdog: Watchdog) -> None:
    task = FakeTask()
    watchdog.watch(task, 5.0)
    loop.advance(4.9)
    assert task.cancels == 0
    loop.advance(0.1)
    assert task.cancels == 1
    assert watchdog.expired(task)
    assert task.cancels == 0  # the cancellation was taken back, so the task can answer 408


def test_a_wait_that_ends_in_time_is_never_cancelled(loop: FakeLoop, watchdog: Watchdog) -> None:
    task = FakeTask()
    watchdog.watch(task, 5.0)
    loop.advance(1.0)
    watchdog.unwatch(task)
    loop.advance(10.0)
    assert task.cancels == 0
    assert not watchdog.expired(task)


def test_one_timer_serves_many_waits_each_at_its_own_deadline(loop: FakeLoop, watchdog: Watchdog) -> None:
    tasks = [FakeTask() for _ in range(100)]
    for n, task in enumerate(tasks):
        loop.advance(0.01)
        watchdog.watch(task, loop.now + 5.0)
        if n % 2:
            watchdog.unwatch(task)  # most bodies arrive at once
    assert len(loop.timers) == 1
    loop.advance(5.0)
    assert [task.cancels for task in tasks] == [1, 0] * 50
    assert len(loop.timers) <= 1  # re-armed for the waits still running, if any


def test_a_shortened_timeout_is_armed_before_the_longer_ones(loop: FakeLoop, watchdog: Watchdog) -> None:
    # The admin API shortened body_timeout: a new wait's deadline comes before the armed timer's.
    patient, hasty = FakeTask(), FakeTask()
    watchdog.watch(patient, 10.0)
    watchdog.watch(hasty, 1.0)
    loop.advance(1.0)
    assert (patient.cancels, hasty.cancels) == (0, 1)
    loop.advance(9.0)
    assert patient.cancels == 1


def test_a_timer_that_fires_early_re_arms_for_the_same_deadline(loop: FakeLoop, watchdog: Watchdog) -> None:
    task = FakeTask()
    watchdog.watch(task, 5.0)
    _, _, callback, armed_for = loop.timers.pop()
    loop.now = 5.0 - 1e-9  # a loop runs timers due within its clock's resolution
    callback(armed_for)
    assert task.cancels == 0
    loop.advance(1e-9)
    assert task.cancels == 1


def test_a_cancellation_someone_else_asked_for_stands(loop: FakeLoop, watchdog: Watchdog) -> None:
    task = FakeTask()
    watchdog.watch(task, 1.0)
    task.cancel()  # the server is shutting down, in the same turn of the loop as the deadline
    loop.advance(1.0)
    assert not watchdog.expired(task)  # not a 408: the task must go on being cancelled
    assert task.cancels == 1


def test_a_cancellation_pending_before_the_wait_does_not_hide_the_timeout(loop: FakeLoop, watchdog: Watchdog) -> None:
    # The app caught a cancellation earlier without taking it back (httpx's ASGI transport runs the app in the
    # caller's task): the wait still ends in a 408, as with `asyncio.timeout`.
    task = FakeTask()
    task.cancel()
    watchdog.watch(task, 1.0)
    loop.advance(1.0)
    assert watchdog.expired(task)
    assert task.cancels == 1


def test_a_cancellation_swallowed_below_the_wait_is_taken_back(loop: FakeLoop, watchdog: Watchdog) -> None:
    task = FakeTask()
    watchdog.watch(task, 1.0)
    loop.advance(1.0)
    assert task.cancels == 1
    watchdog.unwatch(task)  # the wait returned a message after all
    assert task.cancels == 0
    assert not watchdog.expired(task)


def test_an_overdue_task_is_cancelled_once_and_kept_no_longer_than_its_wait(loop: FakeLoop,
                                                                            watchdog: Watchdog) -> None:
    late, later = FakeTask(), FakeTask()
    watchdog.watch(late, 1.0)
    loop.advance(1.0)
    watchdog.watch(later, 2.0)  # the timer fires again before `late` has run: it is not cancelled twice
    loop.advance(1.0)
    assert (late.cancels, later.cancels) == (1, 1)
    for task in (late, later):
        assert watchdog.expired(task)
        watchdog.unwatch(task)
    assert not watchdog._waits
    assert not watchdog._expired


@pytest.mark.anyio
async def test_on_a_real_loop_a_stalled_wait_is_cut_off_and_a_prompt_one_is_not() -> None:
    # The loop's own timers and cancellation, with deadlines already past or far away: nothing waits.
    loop = asyncio.get_running_loop()
    watchdog = Watchdog(loop)
    stalled_body = asyncio.Event()

    async def wait(deadline: float) -> str:
        task = asyncio.current_task()
        assert task is not None
        watchdog.watch(task, deadline)
        try:
            await stalled_body.wait()
        except asyncio.CancelledError:
            if watchdog.expired(task):
                return "cut off"
            raise
        finally:
            watchdog.unwatch(task)
        return "arrived"

    stalled = asyncio.create_task(wait(loop.time()))
    prompt = asyncio.create_task(wait(loop.time() + 3600))
    assert await stalled == "cut off"
    stalled_body.set()
    assert await prompt == "arrived"
