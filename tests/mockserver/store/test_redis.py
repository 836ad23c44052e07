"""What only the Redis store does: share one state between processes, keep it across starts, stay in its prefix.

The behaviour both stores share is tested against each in test_stores.py. These tests need `redis-server` on
PATH and the redis package (skipped otherwise).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.clock import ManualClock
from mockserver.errors import ConfigError
from mockserver.fixtures import Fixtures, fixtures_from_json, fixtures_to_json, parse_fixtures
from mockserver.ratelimit import Quota, QuotaLimiter
from mockserver.services import Services, rate_limit_storage, seed_of
from mockserver.settings import RateLimitSettings, Settings
from mockserver.store import open_store
from tests.mockserver import media
from tests.mockserver.conftest import make_settings
from tests.mockserver.support import (
    RAIR_CONTRACT,
    RAIR_NETWORK,
    TKN_TOKEN,
    fixtures_of,
    immutable_service,
    rair,
    rair_service,
    tkn,
    tokenization_service,
)

redis = pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[redis]'")
from mockserver.store.redis import RedisStore  # noqa: E402

RAIR_KEY = (RAIR_NETWORK, RAIR_CONTRACT, 0, 1)
OTHER_FIXTURES = parse_fixtures({"tokenization": {"bearer_tokens": ["other-bearer"]}})

Opener = Callable[..., RedisStore]


@pytest.fixture
def open_redis(redis_url: str, default_fixtures: Fixtures) -> Iterator[Opener]:
    """Open RedisStores on the test's database (closed afterwards): `open_redis(fixtures=..., prefix=...)`."""
    opened: list[RedisStore] = []

    def opener(fixtures: Fixtures | None = None, prefix: str = "mockserver:", url: str = redis_url) -> RedisStore:
        store = open_store(url, seed_of(fixtures or default_fixtures), prefix=prefix)
        assert isinstance(store, RedisStore)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


class TestSharedNamespace:
    """A store opened on a namespace that has state keeps it; a load through any handle is seen by all."""

    def test_a_second_worker_does_not_wipe_the_first(self, open_redis: Opener) -> None:
        first = open_redis()
        rair(first).update_token(RAIR_KEY, {"name": "kept"})
        key = first.blobs.put(media.png(3, 3), "image/png")

        second = open_redis(fixtures=OTHER_FIXTURES)  # different fixtures, same namespace: not loaded

        assert rair(second).token(RAIR_KEY)["metadata"]["name"] == "kept"  # type: ignore[index]
        assert second.blobs.get(key) is not None
        assert fixtures_of(second) == fixtures_of(first)
        assert not tkn(second).bearer_known("other-bearer")

    def test_load_is_seen_through_every_handle(self, open_redis: Opener, default_fixtures: Fixtures) -> None:
        first, second = open_redis(), open_redis()
        rair(first).update_token(RAIR_KEY, {"name": "changed"})

        second.load(seed_of(OTHER_FIXTURES))

        assert rair(first).token(RAIR_KEY) is None
        assert tkn(first).bearer_known("other-bearer")
        assert fixtures_of(first) == OTHER_FIXTURES
        assert len(first.blobs) == 0

        first.load(seed_of(default_fixtures))

        assert rair(second).token(RAIR_KEY)["metadata"]["name"] != "changed"  # type: ignore[index]
        assert fixtures_of(second) == default_fixtures

    def test_services_reset_goes_back_to_the_namespace_fixtures(self, redis_url: str, default_fixtures: Fixtures,
                                                              clock: ManualClock) -> None:
        settings = make_settings({"store": redis_url})
        one = Services(settings, clock=clock, fixtures=default_fixtures)
        two = Services(settings, clock=clock, fixtures=default_fixtures)

        one.reset(OTHER_FIXTURES)  # the admin API's "load fixtures", through one worker
        two.reset()

        assert two.fixtures == OTHER_FIXTURES
        assert tokenization_service(two).records.bearer_known("other-bearer")
        assert rair_service(two).records.tokens() == []

    def test_namespaces_are_separate_and_keys_stay_in_them(self, open_redis: Opener, redis_url: str) -> None:
        alpha, beta = open_redis(prefix="alpha:"), open_redis(prefix="beta:")
        rair(alpha).update_token(RAIR_KEY, {"name": "alpha"})
        alpha.blobs.put(media.png(4, 4), "image/png")

        assert rair(beta).token(RAIR_KEY)["metadata"]["name"] != "alpha"  # type: ignore[index]
        with redis.Redis.from_url(redis_url) as client:
            keys = {key.decode() for key in client.keys("*")}
        assert keys
        assert all(key.startswith(("alpha:", "beta:")) for key in keys), keys
        assert {key for key in keys if key.startswith("alpha:")} <= set(alpha.namespace_keys())

    def test_concurrent_first_starts_seed_once(self, open_redis: Opener, redis_url: str) -> None:
        """Workers starting together: one seeds, the others find it done; nobody reloads over an update."""
        start = threading.Barrier(6)

        def start_worker(n: int) -> RedisStore:
            start.wait()
            store = open_redis()
            rair(store).update_token(RAIR_KEY, {f"worker{n}": n})
            return store

        with ThreadPoolExecutor(6) as pool:
            stores = list(pool.map(start_worker, range(6)))

        metadata = rair(stores[0]).token(RAIR_KEY)["metadata"]  # type: ignore[index]
        assert {f"worker{n}" for n in range(6)} <= set(metadata)


class TestEncodingAndErrors:
    def test_fixtures_round_trip(self, default_fixtures: Fixtures) -> None:
        assert fixtures_from_json(fixtures_to_json(default_fixtures)) == default_fixtures
        assert fixtures_from_json(fixtures_to_json(Fixtures())) == Fixtures()

    def test_unreachable_redis_is_a_config_error(self, default_fixtures: Fixtures) -> None:
        from tests.mockserver.redis_server import free_port

        with pytest.raises(ConfigError, match="is not usable"):
            open_store(f"redis://127.0.0.1:{free_port()}/0", seed_of(default_fixtures))

    def test_an_unknown_url_parameter_is_a_config_error_naming_the_redacted_store(
            self, redis_url: str, default_fixtures: Fixtures) -> None:
        # redis-py refuses `?foo=bar` only when it first connects, with a TypeError the CLI showed as a traceback.
        url = redis_url.replace("redis://", "redis://:hunter2@") + "?foo=bar"
        with pytest.raises(ConfigError, match=r"is not usable.*foo") as caught:
            open_store(url, default_fixtures)
        assert "redis://:[redacted]@127.0.0.1" in str(caught.value)
        assert "hunter2" not in str(caught.value)

    def test_a_rate_limit_storage_error_does_not_show_its_password(self) -> None:
        with pytest.raises(ConfigError, match="rate-limit storage") as caught:
            QuotaLimiter(RateLimitSettings(storage="bogus://user:hunter2@example.invalid/"), ManualClock())
        assert "hunter2" not in str(caught.value)

    def test_other_schemes_are_refused(self, default_fixtures: Fixtures) -> None:
        with pytest.raises(ConfigError, match="store"):
            open_store("memcached://127.0.0.1:11211", seed_of(default_fixtures))
        with pytest.raises(ConfigError, match="store must be memory:// or a redis://"):
            Settings(store="redis")


class TestSharedRateLimit:
    """Limiters of different workers on one Redis spend one quota, exactly, with each hit's own count."""

    @pytest.mark.parametrize("strategy", ["fixed-window", "sliding-window"])
    def test_two_limiters_one_quota(self, redis_url: str, clock: ManualClock, strategy: str) -> None:
        settings = RateLimitSettings(limit=10, window=60, storage=redis_url, strategy=strategy)  # type: ignore[arg-type]
        limiters = [QuotaLimiter(settings, clock, key_prefix="test:limits") for _ in range(2)]
        start = threading.Barrier(20)

        def hit(n: int) -> tuple[bool, int]:
            start.wait()
            accepted, quota = limiters[n % 2].hit("project-alpha")
            return accepted, quota.remaining

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(hit, range(20)))

        accepted = sorted(remaining for ok, remaining in results if ok)
        assert accepted == list(range(10))
        assert [ok for ok, _ in results].count(False) == 10
        assert limiters[0].peek("project-alpha").remaining == 0

        limiters[1].reset()
        assert limiters[0].peek("project-alpha").remaining == 10

    def test_a_fixed_window_spends_in_one_round_trip(self, redis_url: str, clock: ManualClock) -> None:
        limiter = QuotaLimiter(RateLimitSettings(limit=3, window=60, storage=redis_url), clock, key_prefix="t:one")
        client = limiter._storage.get_connection()
        sent: list[object] = []
        send = client.execute_command
        client.execute_command = lambda *args, **options: sent.append(args[0]) or send(*args, **options)

        accepted, quota = limiter.hit("project-alpha", cost=2)

        assert (accepted, quota.remaining, sent) == (True, 1, ["EVALSHA"])
        assert limiter.hit("project-alpha", cost=2)[0] is False
        assert sent == ["EVALSHA", "EVALSHA"]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["p", "q", "peek", "reset"])), max_size=25))
    def test_the_fixed_window_script_answers_as_the_strategy_does(self, redis_url: str,
                                                                  steps: list[tuple[int, str]]) -> None:
        """The script against `limits`' own test, increment and window stats under the lock, step by step (each
        example in key prefixes of its own, so the database the fixture emptied once serves them all)."""
        clock = ManualClock()
        settings_ = RateLimitSettings(limit=4, window=60, storage=redis_url)
        prefix = f"t:{uuid.uuid4().hex}"
        scripted = QuotaLimiter(settings_, clock, key_prefix=f"{prefix}:scripted")
        strategy = QuotaLimiter(settings_, clock, key_prefix=f"{prefix}:strategy")
        strategy._spend_script = None
        assert scripted._spend_script is not None

        def same(a: tuple[bool, Quota] | Quota, b: tuple[bool, Quota] | Quota) -> None:
            (ok_a, quota_a), (ok_b, quota_b) = ((None, a) if isinstance(a, Quota) else a,
                                                (None, b) if isinstance(b, Quota) else b)
            assert (ok_a, quota_a.limit, quota_a.remaining) == (ok_b, quota_b.limit, quota_b.remaining)
            assert abs(quota_a.reset - quota_b.reset) <= 1  # whole seconds to live, read a moment apart

        for cost, key in steps:
            if key == "reset":
                scripted.reset()
                strategy.reset()
            elif key == "peek":
                same(scripted.peek("p"), strategy.peek("p"))
            else:
                same(scripted.hit(key, cost), strategy.hit(key, cost))

    @pytest.mark.parametrize("scripted", [True, False], ids=["script", "strategy"])
    def test_a_fixed_window_runs_from_its_first_hit(self, redis_url: str, scripted: bool) -> None:
        """Later hits, accepted or refused, neither extend nor restart the window (its key's time to live is
        shortened here to stand for 55 seconds gone by, where the differential test's windows never age)."""
        limiter = QuotaLimiter(RateLimitSettings(limit=3, window=60, storage=redis_url), ManualClock(),
                               key_prefix=f"t:first:{scripted}")
        if not scripted:
            limiter._spend_script = None
        name = limiter._storage.prefixed_key(limiter._item.key_for("p"))  # type: ignore[attr-defined]
        client = limiter._storage.get_connection()  # type: ignore[attr-defined]
        limiter.hit("p")
        client.expire(name, 5)

        accepted, quota = limiter.hit("p", 2)
        refused, _ = limiter.hit("p", 1)

        assert (accepted, refused, quota.remaining) == (True, False, 0)
        assert 0 < client.ttl(name) <= 5

    def test_a_redis_store_shares_its_redis_with_the_limits(self, redis_url: str) -> None:
        assert rate_limit_storage(make_settings({"store": redis_url})) == redis_url
        assert rate_limit_storage(make_settings({"store": "unix:///run/redis.sock?db=1"})) == (
            "redis+unix:///run/redis.sock?db=1")
        explicit = {"store": redis_url, "immutable.rate_limit.storage": "memcached://127.0.0.1:11211"}
        assert rate_limit_storage(make_settings(explicit)) == "memcached://127.0.0.1:11211"
        assert rate_limit_storage(make_settings({})) == "memory://"

    def test_services_on_a_redis_store_count_in_redis(self, redis_url: str, default_fixtures: Fixtures,
                                                      clock: ManualClock) -> None:
        settings = make_settings({"store": redis_url, "immutable.rate_limit.limit": 3})
        one = Services(settings, clock=clock, fixtures=default_fixtures)
        two = Services(settings, clock=clock, fixtures=default_fixtures)

        assert immutable_service(one).limiter.hit("project-alpha")[0]
        assert immutable_service(two).limiter.hit("project-alpha")[1].remaining == 1
        assert tokenization_service(one).records.token(TKN_TOKEN) is not None
