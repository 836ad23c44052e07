"""Time as the mock sees it: the system clock in production, a manual one in tests."""

from __future__ import annotations

import functools
import math
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in seconds since the Unix epoch."""

    def time(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def time(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to, so tests never sleep."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self._now += seconds

    def __repr__(self) -> str:
        return f"ManualClock(now={utc(self).isoformat()})"


class SteppingClock(ManualClock):
    """The clock of a seeded server: starts at 2026-01-01T00:00:00Z and moves `step` seconds per request.

    Request n (counting from 0, sent one after another) sees the start plus n steps, whatever the wall clock
    says, so the same requests give the same timestamps on every run. `advance` still moves it further.
    """

    def __init__(self, start: float = 1_767_225_600.0, step: float = 1.0) -> None:
        super().__init__(start)
        self.start = start
        self.step = step

    def tick(self) -> None:
        """One request done: move one step."""
        self._now += self.step

    def rewind(self) -> None:
        """Back to the start (a reset server replays from its first request)."""
        self._now = self.start

    def __repr__(self) -> str:
        return f"SteppingClock(now={utc(self).isoformat()}, step={self.step})"


def utc(clock: Clock) -> datetime:
    """The clock's current time as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.time(), tz=UTC)


def isoformat(moment: datetime) -> str:
    """RFC 3339 with microseconds and a `Z`, the form both vendors' examples use."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def epoch_isoformat(epoch: float) -> str:
    """`isoformat` of a POSIX time. Every refresh and update stamps what it changes: the date and time of day
    are made once per second, and the microseconds rounded as `datetime.fromtimestamp` rounds them (half to even,
    a 1,000,000 carried into the next second), which costs well under half of making a datetime for each."""
    fraction, whole = math.modf(epoch)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        micro -= 1_000_000
        whole += 1
    elif micro < 0:
        micro += 1_000_000
        whole -= 1
    return f"{_second_isoformat(int(whole))}.{micro:06d}Z"


@functools.lru_cache(maxsize=4)
def _second_isoformat(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).replace(tzinfo=None).isoformat()
