"""The refresh quota: fixed and sliding windows driven by the mock's clock, exact under concurrent use."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.clock import ManualClock
from mockserver.errors import ConfigError
from mockserver.ratelimit import Quota, QuotaLimiter, make_storage
from mockserver.settings import RateLimitSettings


def limiter(clock: ManualClock, limit: int = 3, window: int = 60, strategy: str = "fixed-window") -> QuotaLimiter:
    return QuotaLimiter(RateLimitSettings(limit=limit, window=window, strategy=strategy), clock)  # type: ignore[arg-type]


class TestFixedWindow:
    """A window starts with the first counted request and ends `window` seconds later."""

    def test_counts_down_then_refuses(self, clock: ManualClock) -> None:
        quota = limiter(clock)
        start = clock.time()

        results = [quota.hit("p") for _ in range(4)]

        assert [accepted for accepted, _ in results] == [True, True, True, False]
        assert [q.remaining for _, q in results] == [2, 1, 0, 0]
        assert {q.reset for _, q in results} == {start + 60}
        assert {q.limit for _, q in results} == {3}

    def test_window_starts_at_first_request_not_at_start_up(self, clock: ManualClock) -> None:
        quota = limiter(clock)
        clock.advance(1000)

        _, after = quota.hit("p")

        assert after.reset == clock.time() + 60

    def test_quota_returns_when_window_ends(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=2)
        quota.hit("p")
        clock.advance(10)
        quota.hit("p")
        clock.advance(49.5)
        assert quota.hit("p")[0] is False

        clock.advance(0.5)
        accepted, after = quota.hit("p")

        assert accepted is True
        assert after.remaining == 1
        assert after.reset == clock.time() + 60

    def test_each_key_keeps_its_own_count_however_many_keys_come(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=2)
        quota.hit("first")

        for n in range(5000):  # more client addresses than the limiter remembers keys for
            quota.hit(f"client-{n}")

        assert quota.hit("first")[1].remaining == 0
        assert quota.hit("client-0")[1].remaining == 0
        assert quota.hit("client-4999")[0] is True
        assert quota.hit("client-4999")[0] is False

    def test_refused_requests_cost_nothing(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=2)
        quota.hit("p")
        quota.hit("p")
        for _ in range(5):
            assert quota.hit("p")[0] is False
        clock.advance(60)

        assert quota.hit("p") == (True, Quota(limit=2, remaining=1, reset=clock.time() + 60))

    def test_keys_are_independent(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=1)

        assert quota.hit("alpha")[0] is True
        assert quota.hit("alpha")[0] is False
        assert quota.hit("beta")[0] is True

    def test_peek_spends_nothing(self, clock: ManualClock) -> None:
        quota = limiter(clock)

        untouched = quota.peek("p")
        quota.hit("p")
        after_one = quota.peek("p")

        assert untouched == Quota(limit=3, remaining=3, reset=clock.time() + 60)
        assert after_one.remaining == 2
        assert quota.peek("p").remaining == 2

    def test_cost_above_limit_is_refused_without_spending(self, clock: ManualClock) -> None:
        quota = limiter(clock)

        assert quota.hit("p", cost=4)[0] is False
        assert quota.peek("p").remaining == 3

    def test_reset_forgets_all_spending(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=1)
        quota.hit("p")

        quota.reset()

        assert quota.hit("p")[0] is True


class TestClockedMemoryStorage:
    """`ClockedMemoryStorage` overrides `limits`' `MemoryStorage` internals (pinned to the minor in pyproject.toml):
    these fail if a new `limits` renames what it overrides."""

    def test_no_expiry_timer_is_started(self, clock: ManualClock) -> None:
        storage: Any = make_storage("memory://", clock)
        cancelled = storage.timer
        cancelled.join()  # the one `MemoryStorage.__init__` started, and ours cancelled

        storage.incr("k", 60)
        storage.decr("k")  # the one `limits` method the limiter calls that would start a timer
        storage.acquire_entry("m", 3, 60)

        assert storage.timer is cancelled

    def test_expiry_follows_the_clock(self, clock: ManualClock) -> None:
        storage = make_storage("memory://", clock)
        storage.incr("k", 60, amount=2)
        clock.advance(59.9)
        assert (storage.get("k"), storage.get_expiry("k")) == (2, clock.time() + 0.1)
        clock.advance(0.1)
        assert storage.get("k") == 0


class TestOneCountHit:
    """The in-memory fixed window spends from the count `spend` returns (`_hit_counter`) rather than through the
    strategy's test, hit and window stats: it must answer exactly as they do."""

    @given(st.lists(st.tuples(st.sampled_from([0, 0.5, 1, 30, 59.5, 60, 61]), st.integers(1, 7),
                              st.sampled_from(["p", "q"])), max_size=40))
    def test_answers_as_the_strategy_does(self, steps: list[tuple[float, int, str]]) -> None:
        clocks = ManualClock(), ManualClock()
        one_count, strategy = limiter(clocks[0], limit=5), limiter(clocks[1], limit=5)
        strategy._counter = None
        assert one_count._counter is not None
        for seconds, cost, key in steps:
            for clock in clocks:
                clock.advance(seconds)
            assert one_count.peek(key) == strategy.peek(key)
            assert one_count.hit(key, cost) == strategy.hit(key, cost)
            assert one_count.peek(key) == strategy.peek(key)


class TestSlidingWindow:
    """With the sliding strategy each request frees its slot `window` seconds after it was made."""

    def test_slots_free_one_by_one(self, clock: ManualClock) -> None:
        quota = limiter(clock, limit=2, strategy="sliding-window")
        assert quota.hit("p")[0] is True  # t=0
        clock.advance(30)
        assert quota.hit("p")[0] is True  # t=30
        clock.advance(1)
        assert quota.hit("p")[0] is False  # t=31: both slots taken

        clock.advance(29)
        assert quota.hit("p")[0] is True  # t=60: the t=0 slot is free again
        clock.advance(1)
        assert quota.hit("p")[0] is False  # t=61: t=30 and t=60 still inside
        clock.advance(29)
        assert quota.hit("p")[0] is True  # t=90


class TestStrategiesCompared:
    """The same requests against both strategies: they part ways just after the first window ends."""

    def test_fixed_forgets_the_whole_window_sliding_only_what_left_it(self, clock: ManualClock) -> None:
        start = clock.time()
        outcomes: dict[str, list[tuple[bool, int]]] = {}
        for strategy in ("fixed-window", "sliding-window"):
            quota = limiter(clock, limit=2, strategy=strategy)
            seen = []
            for at in (0, 30, 61, 62):  # seconds since the first request
                clock.advance(start + at - clock.time())
                accepted, after = quota.hit("p")
                seen.append((accepted, after.remaining))
            outcomes[strategy] = seen
            clock.advance(start + 1000 - clock.time())  # the next strategy starts on a clean slate
            start = clock.time()
        # Fixed: a new window opens at 61 s with 2 fresh units. Sliding: at 61 s only the 0 s request has left.
        assert outcomes["fixed-window"] == [(True, 1), (True, 0), (True, 1), (True, 0)]
        assert outcomes["sliding-window"] == [(True, 1), (True, 0), (True, 0), (False, 0)]


class TestQuota:
    """`Retry-After` is a whole number of seconds and never 0 while a client must wait."""

    @pytest.mark.parametrize(("reset", "now", "seconds"), [(100, 0, 100), (100, 99.2, 1), (100, 100, 1),
                                                           (100, 150, 1), (100.5, 0, 101)])
    def test_seconds_to_reset(self, reset: float, now: float, seconds: int) -> None:
        assert Quota(limit=1, remaining=0, reset=reset).seconds_to_reset(now) == seconds


class TestConcurrency:
    """Concurrent hits from many threads accept exactly the limit and report each remaining count once."""

    @pytest.mark.parametrize("strategy", ["fixed-window", "sliding-window"])
    def test_exactly_limit_accepted(self, clock: ManualClock, strategy: str) -> None:
        quota = limiter(clock, limit=7, strategy=strategy)
        barrier = threading.Barrier(20)

        def hit(_: int) -> tuple[bool, Quota]:
            barrier.wait()
            return quota.hit("p")

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(hit, range(20)))

        accepted = sorted(q.remaining for ok, q in results if ok)
        assert accepted == [0, 1, 2, 3, 4, 5, 6]
        assert quota.peek("p").remaining == 0


class TestStorage:
    """Storage is in memory by default; an unusable storage URI is a configuration error."""

    def test_unknown_scheme(self, clock: ManualClock) -> None:
        with pytest.raises(ConfigError, match=r"rate-limit storage 'nosuch://x' is not usable"):
            make_storage("nosuch://x", clock)

    def test_unknown_scheme_stops_the_limiter(self, clock: ManualClock) -> None:
        with pytest.raises(ConfigError):
            QuotaLimiter(RateLimitSettings(storage="nosuch://x"), clock)


class TestOneCountHitEdges:
    """The one-count hit against the strategy path where the test above does not go: a cost of 0, resets, steps of
    a nanosecond and to either side of the window's end, limits of 1 and windows of 1 s."""

    @given(st.integers(1, 3), st.sampled_from([1, 2, 60]),
           st.lists(st.tuples(st.sampled_from([0, 1e-9, 0.5, 1, -1e-9, 0.0, 1e-9]), st.integers(0, 4),
                              st.sampled_from(["p", "q", "reset"])), max_size=40))
    def test_answers_as_the_strategy_does(self, limit: int, window: int,
                                          steps: list[tuple[float, int, str]]) -> None:
        clocks = ManualClock(), ManualClock()
        one_count, strategy = limiter(clocks[0], limit=limit, window=window), limiter(clocks[1], limit=limit,
                                                                                      window=window)
        strategy._counter = None
        for step, cost, key in steps:
            seconds = window + step if step < 0 or (step == 0.0 and cost % 2) else step  # at or just short of the end
            for clock in clocks:
                clock.advance(seconds)
            if key == "reset":
                one_count.reset()
                strategy.reset()
                continue
            assert one_count.hit(key, cost) == strategy.hit(key, cost)
            assert one_count.peek(key) == strategy.peek(key)
