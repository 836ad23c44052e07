"""Clocks: the manual clock moves only when told, and times print the way the vendors print them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockserver.clock import ManualClock, SystemClock, epoch_isoformat, isoformat, utc


class TestManualClock:
    """Tests move time by hand instead of sleeping."""

    def test_starts_at_2026_and_advances(self) -> None:
        clock = ManualClock()
        assert utc(clock) == datetime(2026, 1, 1, tzinfo=UTC)

        clock.advance(90.5)

        assert utc(clock) == datetime(2026, 1, 1, 0, 1, 30, 500000, tzinfo=UTC)
        assert "2026-01-01T00:01:30.500000" in repr(clock)

    def test_never_runs_backwards(self) -> None:
        clock = ManualClock(start=10)

        with pytest.raises(ValueError, match="does not run backwards"):
            clock.advance(-1)
        assert clock.time() == 10

    def test_system_clock_follows_the_wall(self) -> None:
        before = datetime.now(UTC).timestamp()
        now = SystemClock().time()

        assert before - 1 <= now <= datetime.now(UTC).timestamp() + 1


class TestIsoformat:
    """Times are RFC 3339 with microseconds and a Z."""

    def test_format(self) -> None:
        assert isoformat(datetime(2024, 4, 16, 11, 6, 7, 401553, tzinfo=UTC)) == "2024-04-16T11:06:07.401553Z"
        assert isoformat(datetime(2024, 4, 16, 11, 6, 7, tzinfo=UTC)) == "2024-04-16T11:06:07.000000Z"

    def test_epoch_isoformat_answers_each_time_anew_after_another(self) -> None:
        # It keeps its last answer (a 250-item refresh stamps every NFT alike): never one for another time.
        assert [epoch_isoformat(t) for t in (0.0, 0.0, 1.5, 0.0)] == [
            "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:01.500000Z",
            "1970-01-01T00:00:00.000000Z"]

    @given(st.floats(min_value=-2_208_988_800, max_value=4_102_444_800, allow_nan=False)  # 1900 to 2100
           | st.integers(0, 4_102_444_800_000_000).map(lambda micros: micros / 1e6)  # on the microsecond
           | st.integers(0, 4_102_444_800_000_000).map(lambda micros: (micros + 0.5) / 1e6))  # half-way
    @example(1.0000005)  # half a microsecond: to even
    @example(1.9999995)  # rounds up into the next second
    @example(-0.0000005)
    @example(-1.5)
    @example(1_700_000_000.9999996)
    def test_epoch_isoformat_prints_as_isoformat_does(self, epoch: float) -> None:
        assert epoch_isoformat(epoch) == isoformat(datetime.fromtimestamp(epoch, tz=UTC))
