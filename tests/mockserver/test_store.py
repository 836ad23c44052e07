"""The in-memory store: records handed out as copies, queued refreshes applied when due, reset to fixtures."""

from __future__ import annotations

import pytest

from mockserver.clock import ManualClock
from mockserver.fixtures import Fixtures
from mockserver.services import Services
from mockserver.settings import Settings
from mockserver.store import PendingRefresh, Store
from tests.mockserver import media
from tests.mockserver.support import IMX_CHAIN, IMX_COLLECTION, RAIR_CONTRACT, RAIR_NETWORK, TKN_TOKEN

RAIR_KEY = (RAIR_NETWORK, RAIR_CONTRACT, 0, 1)
START = ManualClock().time()


@pytest.fixture
def store(default_fixtures: Fixtures) -> Store:
    return Store(default_fixtures)


def refresh(token_id: int, due: float, **metadata: object) -> PendingRefresh:
    return PendingRefresh(due, (IMX_CHAIN, IMX_COLLECTION, token_id), str(token_id), dict(metadata))


class TestCopies:
    """Nothing a caller does to a returned record changes the store or the fixtures it came from."""

    def test_returned_records_are_copies(self, store: Store) -> None:
        token = store.rair_token(RAIR_KEY)
        assert token is not None
        token["metadata"]["name"] = "scribbled"
        nft = store.nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START)
        assert nft is not None
        nft["name"] = "scribbled"
        tkn = store.tokenization_token(TKN_TOKEN)
        assert tkn is not None
        tkn["meta"]["images"].clear()

        assert store.rair_token(RAIR_KEY)["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"  # type: ignore[index]
        assert store.nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START)["name"] == "Sword"  # type: ignore[index]
        assert len(store.tokenization_token(TKN_TOKEN)["meta"]["images"]) == 1  # type: ignore[index]

    def test_updates_leave_the_fixtures_untouched(self, store: Store, default_fixtures: Fixtures) -> None:
        store.update_rair_token(RAIR_KEY, {"name": "changed"})

        assert default_fixtures.rair_tokens[RAIR_KEY]["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"
        assert Store(default_fixtures).rair_token(RAIR_KEY)["metadata"]["name"] != "changed"  # type: ignore[index]

    def test_lookups_ignore_address_case(self, store: Store) -> None:
        assert store.rair_contract(RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x")) is not None
        assert store.rair_token((RAIR_NETWORK, RAIR_CONTRACT.upper().replace("0X", "0x"), 0, 1)) is not None
        assert store.collection(IMX_CHAIN, IMX_COLLECTION.upper().replace("0X", "0x")) is not None
        assert store.tokenization_token(TKN_TOKEN.upper()) is not None


class TestRairUpdate:
    """An update merges metadata and marks the URI as no longer on chain."""

    def test_merge(self, store: Store) -> None:
        updated = store.update_rair_token(RAIR_KEY, {"name": "New", "attributes": []})

        assert updated["metadata"]["name"] == "New"
        assert updated["metadata"]["attributes"] == []
        assert updated["metadata"]["artist"] == "chrissweet"
        assert updated["isURIStoredToBlockchain"] is False
        assert store.rair_token(RAIR_KEY) == updated


class TestRefreshQueue:
    """Refreshed metadata shows from its due time on, stamped with that time."""

    def test_not_before_due(self, store: Store) -> None:
        store.schedule_refresh([refresh(1, START + 30, name="Later")])

        assert store.nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 29.9)["name"] == "Sword"  # type: ignore[index]
        assert store.pending_refreshes() == 1

        nft = store.nft(IMX_CHAIN, IMX_COLLECTION, 1, now=START + 30)

        assert nft is not None
        assert nft["name"] == "Later"
        assert nft["metadata_synced_at"] == nft["updated_at"] == "2026-01-01T00:00:30.000000Z"
        assert nft["indexed_at"] == "2026-01-01T00:00:00.000000Z"
        assert store.pending_refreshes() == 0

    def test_later_refresh_of_the_same_token_wins(self, store: Store) -> None:
        store.schedule_refresh([refresh(2, START + 20, name="Second")])
        store.schedule_refresh([refresh(2, START + 10, name="First")])

        nft = store.nft(IMX_CHAIN, IMX_COLLECTION, 2, now=START + 60)

        assert nft is not None
        assert nft["name"] == "Second"
        assert nft["metadata_synced_at"] == "2026-01-01T00:00:20.000000Z"

    def test_refresh_of_an_unindexed_token_indexes_it(self, store: Store) -> None:
        assert store.nft(IMX_CHAIN, IMX_COLLECTION, 10, now=START) is None
        store.schedule_refresh([refresh(10, START + 5, name="Ten", external_url="https://x.test")])

        nft = store.nft(IMX_CHAIN, IMX_COLLECTION, 10, now=START + 5)

        assert nft is not None
        assert nft["token_id"] == "10"
        assert nft["name"] == "Ten"
        assert nft["external_url"] == nft["external_link"] == "https://x.test"
        assert nft["indexed_at"] == "2026-01-01T00:00:05.000000Z"
        assert nft["contract_type"] == "ERC721"
        # Listed in numeric token-id order, not as text.
        listed = [n["token_id"] for n in store.nfts(IMX_CHAIN, IMX_COLLECTION, now=START + 5)]
        assert listed == ["1", "2", "3", "10"]


class TestReset:
    """Reset puts back every record, drops uploads and forgets quota spending."""

    def test_services_reset(self, default_fixtures: Fixtures, clock: ManualClock) -> None:
        services = Services(Settings(), clock=clock, fixtures=default_fixtures)
        fixture_blobs = len(services.store.blobs)
        services.store.update_rair_token(RAIR_KEY, {"name": "changed"})
        services.store.blobs.put(media.png(5, 5), "image/png")
        services.store.schedule_refresh([refresh(1, clock.time() + 100, name="x")])
        services.limiter.hit("project-alpha")

        services.reset()

        assert services.store.rair_token(RAIR_KEY)["metadata"]["name"] != "changed"  # type: ignore[index]
        assert len(services.store.blobs) == fixture_blobs
        assert services.store.pending_refreshes() == 0
        assert services.limiter.peek("project-alpha").remaining == services.settings.immutable.rate_limit.limit

    def test_reset_to_other_fixtures(self, default_fixtures: Fixtures, clock: ManualClock) -> None:
        services = Services(Settings(), clock=clock, fixtures=default_fixtures)

        services.reset(Fixtures())

        assert services.store.rair_token(RAIR_KEY) is None
        assert services.store.tokenization_tokens() == []
        assert len(services.store.blobs) == 0
