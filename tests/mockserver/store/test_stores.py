"""Both stores, memory and Redis: records handed out as copies, queued refreshes applied when due, reset to fixtures.

Every test here runs against each backend; the Redis runs need `redis-server` on PATH (skipped otherwise).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.apis.immutable.service import NFTS, PendingRefresh
from mockserver.apis.rair.service import TOKENS
from mockserver.clock import ManualClock
from mockserver.fixtures import Fixtures
from mockserver.services import Services, seed_of
from mockserver.settings import Settings
from mockserver.store import MEMORY_URL, Seed, Store, open_store
from mockserver.store.base import Scheduled, copy_record
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_CHAIN,
    IMX_COLLECTION,
    RAIR_CONTRACT,
    RAIR_NETWORK,
    TKN_TOKEN,
    fixtures_of,
    immutable_service,
    imx,
    rair,
    rair_service,
    tkn,
    tokenization_service,
)

RAIR_KEY = (RAIR_NETWORK, RAIR_CONTRACT, 0, 1)
START = ManualClock().time()


StoreFactory = Callable[[Fixtures], Store]
_namespaces = itertools.count()


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of the store under test: memory://, or an emptied Redis database."""
    if request.param == "memory":
        return MEMORY_URL
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def fresh_store(store_url: str) -> Iterator[StoreFactory]:
    """Open a store on the fixtures given, in a namespace of its own (so it is seeded with them)."""
    opened: list[Store] = []

    def factory(fixtures: Fixtures) -> Store:
        opened.append(open_store(store_url, seed_of(fixtures), prefix=f"test-{next(_namespaces)}:"))
        return opened[-1]

    yield factory
    for store in opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@pytest.fixture
def store(fresh_store: StoreFactory, default_fixtures: Fixtures) -> Store:
    return fresh_store(default_fixtures)


@pytest.fixture
def twin(store: Store, store_url: str, default_fixtures: Fixtures) -> Iterator[Store]:
    """Another handle on the state of `store`, as a second worker has: itself in memory, a new client for Redis."""
    if store_url == MEMORY_URL:
        yield store
        return
    other = open_store(store_url, seed_of(default_fixtures), prefix=store.prefix)  # type: ignore[attr-defined]
    yield other
    other.close()  # type: ignore[attr-defined]


def refresh(token_id: int, due: float, **metadata: object) -> PendingRefresh:
    return PendingRefresh(due, (IMX_CHAIN, IMX_COLLECTION, token_id), str(token_id), dict(metadata))


class TestCopies:
    """Nothing a caller does to a returned record changes the store or the fixtures it came from."""

    def test_returned_records_are_copies(self, store: Store) -> None:
        token = rair(store).token(RAIR_KEY)
        assert token is not None
        token["metadata"]["name"] = "scribbled"
        nft = imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START)
        assert nft is not None
        nft["name"] = "scribbled"
        tkn_token = tkn(store).token(TKN_TOKEN)
        assert tkn_token is not None
        tkn_token["meta"]["images"].clear()

        assert rair(store).token(RAIR_KEY)["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"  # type: ignore[index]
        assert imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START)["name"] == "Sword"  # type: ignore[index]
        assert len(tkn(store).token(TKN_TOKEN)["meta"]["images"]) == 1  # type: ignore[index]

    def test_updates_leave_the_fixtures_untouched(self, store: Store, default_fixtures: Fixtures,
                                                  fresh_store: StoreFactory) -> None:
        rair(store).update_token(RAIR_KEY, {"name": "changed"})

        assert default_fixtures.rair_tokens[RAIR_KEY]["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"
        assert rair(fresh_store(default_fixtures)).token(RAIR_KEY)["metadata"]["name"] != "changed"  # type: ignore[index]

    def test_lookups_ignore_address_case(self, store: Store) -> None:
        assert rair(store).contract(RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x")) is not None
        assert rair(store).token((RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x"), 0, 1)) is not None
        assert imx(store).collection(IMX_CHAIN, IMX_COLLECTION.upper().replace("0X", "0x")) is not None
        assert tkn(store).token(TKN_TOKEN.upper()) is not None


class SizedLike(list[Any]):
    """A list subclass, as `compactjson.SizedList` is."""


# JSON-like records with the odd values fixtures can hold: a date from YAML, a list or dict subclass.
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                    st.dates())
_RECORDS = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4),
    st.lists(inner, max_size=3).map(SizedLike)), max_leaves=30)


class TestCopyRecord:
    """`copy_record` is a deep copy: equal to `copy.deepcopy`'s, sharing no list or dict with the original."""

    @given(_RECORDS)
    def test_a_copy_is_equal_and_shares_no_container(self, record: Any) -> None:
        copied = copy_record(record)
        assert copied == copy.deepcopy(record)
        originals = {id(node) for node in _containers(record)}
        assert not originals & {id(node) for node in _containers(copied)}

    def test_containers_come_back_as_plain_lists_and_dicts(self) -> None:
        assert type(copy_record({"a": SizedLike([1])})["a"]) is list  # type: ignore[index]


def _containers(value: Any) -> Iterator[Any]:
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


class TestRairUpdate:
    """An update merges metadata and marks the URI as no longer on chain."""

    def test_merge(self, store: Store) -> None:
        updated = rair(store).update_token(RAIR_KEY, {"name": "New", "attributes": []})

        assert updated["metadata"]["name"] == "New"
        assert updated["metadata"]["attributes"] == []
        assert updated["metadata"]["artist"] == "chrissweet"
        assert updated["isURIStoredToBlockchain"] is False
        assert rair(store).token(RAIR_KEY) == updated


class TestRefreshQueue:
    """Refreshed metadata shows from its due time on, stamped with that time."""

    def test_not_before_due(self, store: Store) -> None:
        imx(store).schedule_refresh([refresh(1, START + 30, name="Later")])

        assert imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 29.9)["name"] == "Sword"  # type: ignore[index]
        assert imx(store).pending_refreshes() == 1

        nft = imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 30)

        assert nft is not None
        assert nft["name"] == "Later"
        assert nft["metadata_synced_at"] == nft["updated_at"] == "2026-01-01T00:00:30.000000Z"
        assert nft["indexed_at"] == "2026-01-01T00:00:00.000000Z"
        assert imx(store).pending_refreshes() == 0

    def test_later_refresh_of_the_same_token_wins(self, store: Store) -> None:
        imx(store).schedule_refresh([refresh(2, START + 20, name="Second")])
        imx(store).schedule_refresh([refresh(2, START + 10, name="First")])

        nft = imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 2, now=START + 60)

        assert nft is not None
        assert nft["name"] == "Second"
        assert nft["metadata_synced_at"] == "2026-01-01T00:00:20.000000Z"

    def test_refreshes_due_now_apply_after_those_queued_before_and_later_ones_wait(self, store: Store) -> None:
        imx(store).schedule_refresh([refresh(1, START + 10, name="Queued"), refresh(2, START + 10, name="Queued")])

        imx(store).schedule_refresh([refresh(1, START + 20, name="Now"), refresh(2, START + 99, name="Later"),
                                     refresh(3, START + 20, name="Also now")], now=START + 20)

        assert imx(store).pending_refreshes() == 1
        nfts = {nft["token_id"]: nft for nft in imx(store).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 20)}
        assert [nfts[t]["name"] for t in "123"] == ["Now", "Queued", "Also now"]
        assert nfts["1"]["updated_at"] == "2026-01-01T00:00:20.000000Z"
        assert imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 2, now=START + 99)["name"] == "Later"  # type: ignore[index]

    def test_refreshes_due_now_with_nothing_queued_apply_at_once_and_later_ones_wait(self, store: Store) -> None:
        imx(store).schedule_refresh([refresh(1, START + 20, name="Now"), refresh(2, START + 99, name="Later"),
                                     refresh(1, START + 20, name="Now again"), refresh(99, START, name="New")],
                                    now=START + 20)

        assert imx(store).pending_refreshes() == 1
        nfts = {nft["token_id"]: nft for nft in imx(store).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 20)}
        assert (nfts["1"]["name"], nfts["2"]["name"], nfts["99"]["name"]) == ("Now again", "Shield", "New")
        assert nfts["99"]["indexed_at"] == "2026-01-01T00:00:00.000000Z"  # indexed when its refresh was due
        assert imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 2, now=START + 99)["name"] == "Later"  # type: ignore[index]

    def test_refreshes_due_now_from_two_workers_at_once_are_all_applied(self, store: Store, twin: Store) -> None:
        start = threading.Barrier(8)

        def refresh_now(n: int) -> None:
            start.wait()
            for round_ in range(5):
                imx([store, twin][n % 2]).schedule_refresh(
                    [refresh(1 + n, START + 1, name=f"{n}.{round_}"), refresh(20, START + 1, **{f"by{n}": round_})],
                    now=START + 1)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(refresh_now, range(8)))

        nfts = {nft["token_id"]: nft for nft in imx(twin).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 1)}
        assert [nfts[str(1 + n)]["name"] for n in range(8)] == [f"{n}.4" for n in range(8)]
        assert {name: nfts["20"][name] for name in nfts["20"] if name.startswith("by")} == {
            f"by{n}": 4 for n in range(8)}  # every worker's every refresh of the one token, none lost
        assert imx(store).pending_refreshes() == 0

    def test_a_queued_refresh_due_exactly_now_applies_before_one_due_now(self, store: Store, twin: Store) -> None:
        imx(twin).schedule_refresh([refresh(1, START + 10, name="Queued")])

        imx(store).schedule_refresh([refresh(1, START + 10, name="Now")], now=START + 10)

        assert imx(twin).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 10)["name"] == "Now"  # type: ignore[index]
        assert imx(store).pending_refreshes() == 0

    def test_a_kind_first_written_by_a_change_due_now_is_removed_by_a_load(self, store: Store, twin: Store) -> None:
        seed = Seed(records={})
        store.load(seed)
        store.schedule_and_apply("test:new", [Scheduled(START, ("a", 1), {"n": 1})], now=START,
                                 apply=lambda record, scheduled: dict(scheduled.change))
        assert twin.get("test:new", ("a", 1)) == {"n": 1}

        twin.load(seed)

        assert store.get("test:new", ("a", 1)) is None

    @pytest.mark.parametrize("queued", [False, True], ids=["nothing-queued", "unrelated-queued"])
    def test_changes_due_now_apply_as_schedule_then_apply_due_would(self, fresh_store: StoreFactory,
                                                                     default_fixtures: Fixtures, queued: bool) -> None:
        """The store contract: schedule_and_apply has the outcome of schedule, then apply_due (by due time, then
        arrival), whether or not something unrelated was queued and due (which sends Redis down the queue)."""
        names = []
        for store, fast in ((fresh_store(default_fixtures), True), (fresh_store(default_fixtures), False)):
            if queued:
                imx(store).schedule_refresh([refresh(3, START + 1, name="Other")])
            changes = [refresh(1, START + 20, name="Due at 20"), refresh(1, START + 10, name="Due at 10")]
            if fast:
                imx(store).schedule_refresh(changes, now=START + 20)
            else:
                imx(store).schedule_refresh(changes)
                imx(store).apply_due(START + 20)
            nft = imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 20)
            names.append((nft["name"], nft["updated_at"]))  # type: ignore[index]

        assert names[0] == names[1] == ("Due at 20", "2026-01-01T00:00:20.000000Z")

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.lists(st.tuples(st.sampled_from([1, 2, 99]), st.integers(0, 4)), min_size=1,
                                       max_size=3), st.booleans()), min_size=1, max_size=6))
    def test_schedule_and_apply_ends_as_schedule_then_apply_due(
        self, fresh_store: StoreFactory, default_fixtures: Fixtures, calls: list[tuple[list[tuple[int, int]], bool]]
    ) -> None:
        """Any mix of calls, queued or applied at once (at START + 2), against the same changes queued and then
        applied: the same NFTs, stamped alike, and the same left queued."""
        at_once, queued = fresh_store(default_fixtures), fresh_store(default_fixtures)
        for n, (changes, now) in enumerate(calls):
            refreshes = [refresh(token, START + due, name=f"call {n} item {i}")
                         for i, (token, due) in enumerate(changes)]
            imx(queued).schedule_refresh(refreshes)
            if now:
                imx(at_once).schedule_refresh(refreshes, now=START + 2)
                imx(queued).apply_due(START + 2)
            else:
                imx(at_once).schedule_refresh(refreshes)

        for when in (START + 2, START + 4):
            assert ([(nft["token_id"], nft["name"], nft["updated_at"])
                     for nft in imx(at_once).nfts(IMX_CHAIN, IMX_COLLECTION, now=when)]
                    == [(nft["token_id"], nft["name"], nft["updated_at"])
                        for nft in imx(queued).nfts(IMX_CHAIN, IMX_COLLECTION, now=when)])
            assert imx(at_once).pending_refreshes() == imx(queued).pending_refreshes()

    def test_stacked_metadata_and_the_nfts_carrying_it_change_when_due(self, store: Store) -> None:
        stacked = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"  # carried by NFTs 4 and 5 of the default fixtures
        imx(store).schedule_metadata_refresh(START + 30, (IMX_CHAIN, IMX_COLLECTION, stacked),
                                             {"name": "Steel Helmet", "attributes": []})

        before = imx(store).metadata(IMX_CHAIN, IMX_COLLECTION, stacked, now=START + 29.9)
        pending = (imx(store).pending_metadata_refreshes(), imx(store).pending_refreshes())
        after = imx(store).metadata(IMX_CHAIN, IMX_COLLECTION, stacked.upper(), now=START + 30)
        names = [nft["name"] for nft in imx(store).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 30)]

        assert before is not None
        assert (before["name"], before["updated_at"]) == ("Iron Helmet", None)
        assert pending == (1, 2)
        assert after is not None
        assert (after["name"], after["updated_at"]) == ("Steel Helmet", "2026-01-01T00:00:30.000000Z")
        assert names == ["Sword", "Shield", "Potion", "Steel Helmet", "Steel Helmet"]

    def test_refresh_of_an_unindexed_token_indexes_it(self, store: Store) -> None:
        assert imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 10, now=START) is None
        imx(store).schedule_refresh([refresh(10, START + 5, name="Ten", external_url="https://x.test")])

        nft = imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 10, now=START + 5)

        assert nft is not None
        assert nft["token_id"] == "10"
        assert nft["name"] == "Ten"
        assert nft["external_url"] == nft["external_link"] == "https://x.test"
        assert nft["indexed_at"] == "2026-01-01T00:00:05.000000Z"
        assert nft["contract_type"] == "ERC721"
        # Listed in numeric token-id order, not as text.
        listed = [n["token_id"] for n in imx(store).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 5)]
        assert listed == ["1", "2", "3", "4", "5", "10"]


class TestReset:
    """Reset puts back every record, drops uploads and forgets quota spending."""

    def test_services_reset(self, default_fixtures: Fixtures, clock: ManualClock, store_url: str) -> None:
        services = Services(Settings(store=store_url), clock=clock, fixtures=default_fixtures)
        fixture_blobs = len(services.store.blobs)
        rair_service(services).records.update_token(RAIR_KEY, {"name": "changed"})
        services.store.blobs.put(media.png(5, 5), "image/png")
        immutable_service(services).records.schedule_refresh([refresh(1, clock.time() + 100, name="x")])
        immutable_service(services).limiter.hit("project-alpha")

        services.reset()

        assert rair_service(services).records.token(RAIR_KEY)["metadata"]["name"] != "changed"  # type: ignore[index]
        assert len(services.store.blobs) == fixture_blobs
        assert immutable_service(services).records.pending_refreshes() == 0
        limit = services.settings.immutable.rate_limit.limit
        assert immutable_service(services).limiter.peek("project-alpha").remaining == limit

    def test_reset_to_other_fixtures(self, default_fixtures: Fixtures, clock: ManualClock, store_url: str) -> None:
        services = Services(Settings(store=store_url), clock=clock, fixtures=default_fixtures)

        services.reset(Fixtures())

        assert rair_service(services).records.token(RAIR_KEY) is None
        assert tokenization_service(services).records.tokens() == []
        assert len(services.store.blobs) == 0
        assert services.fixtures == Fixtures()
        # A later reset goes back to the fixtures now in force, not to the ones the server started with.
        services.reset()
        assert rair_service(services).records.tokens() == []


class TestTokenizationUpdate:
    """A token changes in one atomic step; a change that fails stores nothing."""

    def test_change_and_its_files_are_stored(self, store: Store) -> None:
        key = store.blobs.put(media.png(2, 2), "image/png")

        def change(token: Any) -> None:
            token["name"] = "Changed"
            token["meta"]["images"].append({"id": "a" * 24, "is_default": False, "hash": key,
                                            "created_at": "2026-01-01T00:00:00.000000Z", "deleted_at": None})

        assert tkn(store).update_token(TKN_TOKEN.upper(), change) is True

        updated = tkn(store).token(TKN_TOKEN)
        assert updated is not None
        assert updated["name"] == "Changed"
        listed = updated["meta"]["images"][-1]
        assert listed["id"] == "a" * 24
        assert store.blobs.get(listed["hash"]) is not None

    def test_a_failing_change_stores_nothing(self, store: Store) -> None:
        before = tkn(store).token(TKN_TOKEN)

        def change(token: Any) -> None:
            token["name"] = "half-done"
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            tkn(store).update_token(TKN_TOKEN, change)

        assert tkn(store).token(TKN_TOKEN) == before

    def test_unknown_token(self, store: Store) -> None:
        assert tkn(store).update_token("f" * 24, lambda token: None) is False


class TestChange:
    """`Store.change` stores what `update` would, answering only whether the record exists."""

    @pytest.fixture
    def things(self, store_url: str) -> Iterator[Store]:
        opened = open_store(store_url, Seed(records={"test:things": {("a", 1): {"n": 1, "tags": ["x"]}}}),
                            prefix=f"test-{next(_namespaces)}:")
        yield opened
        getattr(opened, "close", lambda: None)()

    def test_stores_the_change_and_what_it_adds(self, things: Store) -> None:
        def change(record: Any) -> Any:
            record["n"] += 1
            record["tags"].append("y")
            return {"test:more": {("b", 2): {"made": True}}}

        assert things.change("test:things", ("a", 1), change) is True

        assert things.get("test:things", ("a", 1)) == {"n": 2, "tags": ["x", "y"]}
        assert things.get("test:more", ("b", 2)) == {"made": True}

    def test_has_answers_for_records_added_by_any_worker(self, things: Store, store_url: str) -> None:
        things.change("test:things", ("a", 1), lambda record: {"test:more": {("b", 2): {}}})
        # Another worker's handle on the same state: itself in memory, a new client for Redis.
        other = things if store_url == MEMORY_URL else open_store(store_url, Seed(records={}),
                                                                  prefix=things.prefix)  # type: ignore[attr-defined]
        try:
            asked = [("test:things", ("a", 1)), ("test:more", ("b", 2)), ("test:things", ("a", 2)),
                     ("test:none", ("a", 1))]
            assert [other.has(kind, key) for kind, key in asked] == [True, True, False, False]
        finally:
            if other is not things:
                other.close()  # type: ignore[attr-defined]

    def test_a_missing_record_is_false_and_the_change_never_runs(self, things: Store) -> None:
        ran: list[Any] = []

        assert things.change("test:things", ("a", 2), ran.append) is False
        assert ran == []
        assert things.items("test:things") == [(("a", 1), {"n": 1, "tags": ["x"]})]


class TestBlobsAndListings:
    """Files come back byte for byte with their type; listings keep the fixtures' order."""

    def test_blobs(self, store: Store) -> None:
        fixture_blobs = len(store.blobs)
        data = b"\x00\x01binary\x00with NULs\xff"

        key = store.blobs.put(data, "application/octet-stream")
        again = store.blobs.put(data, "image/png")  # the same bytes keep their first type
        blob = store.blobs.get(key)

        assert key == again
        assert blob is not None
        assert (blob.data, blob.content_type) == (data, "application/octet-stream")
        assert len(store.blobs) == fixture_blobs + 1
        assert store.blobs.get("0" * 64) is None

    def test_listings(self, store: Store, default_fixtures: Fixtures) -> None:
        assert [t["_id"] for t in rair(store).tokens()] == [t["_id"] for t in default_fixtures.rair_tokens.values()]
        assert [t["id"] for t in tkn(store).tokens()] == list(default_fixtures.tokenization_tokens)
        listed = [(n["chain"]["name"], n["contract_address"], int(n["token_id"]))
                  for n in imx(store).all_nfts(now=START)]
        assert listed == sorted(default_fixtures.immutable_nfts)
        assert fixtures_of(store) == default_fixtures

    def test_lookups(self, store: Store, default_fixtures: Fixtures) -> None:
        for user in default_fixtures.rair_users:
            assert rair(store).user(user.credential) == user
        for key in default_fixtures.immutable_keys:
            assert imx(store).key(key.key) == key
        for collection in default_fixtures.immutable_collections:
            assert imx(store).collection(collection.chain, collection.address) == collection
        assert rair(store).has_product(RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x"), 0)
        assert not rair(store).has_product(RAIR_NETWORK, RAIR_CONTRACT, 99)
        assert tkn(store).bearer_known(default_fixtures.tokenization_bearers[0])
        assert rair(store).user("nobody") is None
        assert imx(store).key("nobody") is None
        assert imx(store).chain("nowhere") is None
        assert not tkn(store).bearer_known("nobody")


class TestConcurrentHandles:
    """Updates through two handles on one state (two workers' stores) racing each other are all applied."""

    def test_rair_and_tokenization_updates(self, store: Store, twin: Store) -> None:
        handles = [store, twin]
        start = threading.Barrier(40)

        def update_rair(n: int) -> None:
            start.wait()
            rair(handles[n % 2]).update_token(RAIR_KEY, {f"field{n}": n})

        def update_tokenization(n: int) -> None:
            def change(token: Any) -> None:
                token["meta"]["images"].append({"id": f"{n:024x}", "is_default": False, "hash": f"{n:064x}",
                                                "created_at": "2026-01-01T00:00:00.000000Z", "deleted_at": None})

            start.wait()
            tkn(handles[n % 2]).update_token(TKN_TOKEN, change)

        with ThreadPoolExecutor(40) as pool:
            list(pool.map(lambda n: update_rair(n) if n < 20 else update_tokenization(n), range(40)))

        for handle in handles:
            metadata = rair(handle).token(RAIR_KEY)["metadata"]  # type: ignore[index]
            assert {name: metadata[name] for name in metadata if name.startswith("field")} == {
                f"field{n}": n for n in range(20)}
            images = tkn(handle).token(TKN_TOKEN)["meta"]["images"]  # type: ignore[index]
            assert sorted(i["id"] for i in images[1:]) == [f"{n:024x}" for n in range(20, 40)]
            assert {i["hash"] for i in images[1:]} == {f"{n:064x}" for n in range(20, 40)}

    def test_due_refreshes_are_applied_once(self, store: Store, twin: Store) -> None:
        imx(store).schedule_refresh([refresh(n, START + n, name=f"first {n}") for n in range(1, 21)])
        imx(twin).schedule_refresh([refresh(n, START + 30, name=f"second {n}") for n in range(1, 21)])
        start = threading.Barrier(8)

        def read(n: int) -> list[dict[str, Any]]:
            start.wait()
            return imx([store, twin][n % 2]).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 20 + 5 * (n % 4))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(read, range(8)))

        assert imx(store).pending_refreshes() == 0
        listed = imx(twin).nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 40)
        assert {n["token_id"]: n["name"] for n in listed} == {str(n): f"second {n}" for n in range(1, 21)}
        assert {n["metadata_synced_at"] for n in listed} == {"2026-01-01T00:00:30.000000Z"}


class _NoScan(dict[Any, Any]):
    """A record table that fails any walk over all its keys: a per-request lookup must use an index."""

    def __iter__(self) -> Iterator[Any]:
        raise AssertionError("scanned every record")

    def keys(self) -> Any:
        raise AssertionError("scanned every record")


class TestIndexes:
    """Per-request lookups go through indexes kept in step with the records."""

    def test_memory_lookups_do_not_scan_every_record(self, default_fixtures: Fixtures) -> None:
        store: Any = open_store(MEMORY_URL, seed_of(default_fixtures))
        imx(store).nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START)
        store._tables[TOKENS], store._tables[NFTS] = _NoScan(store._tables[TOKENS]), _NoScan(store._tables[NFTS])

        assert rair(store).has_product(RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x"), 0)
        assert not rair(store).has_product(RAIR_NETWORK, RAIR_CONTRACT, 99)
        listed = [n["token_id"] for n in imx(store).nfts(IMX_CHAIN, IMX_COLLECTION.upper().replace("0X", "0x"),
                                                      now=START)]
        assert listed == ["1", "2", "3", "4", "5"]

    def test_product_index_follows_a_reload(self, store: Store, default_fixtures: Fixtures) -> None:
        records = rair(store)  # one handle across the loads, as a running service keeps
        assert records.has_product(RAIR_NETWORK, RAIR_CONTRACT, 0)
        store.load(seed_of(Fixtures()))
        assert not records.has_product(RAIR_NETWORK, RAIR_CONTRACT, 0)
        store.load(seed_of(default_fixtures))
        assert records.has_product(RAIR_NETWORK, RAIR_CONTRACT, 0)
