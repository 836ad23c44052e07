"""The in-memory state of all three APIs, seeded from fixtures and reset to them on demand.

Records are handed out as deep copies and changed only through methods that hold the store's lock, so a
request never sees another's half-applied update. Immutable refreshes are queued with the time they become
visible and applied on the next read after that time (no background task, so a manual clock controls it).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mockserver.clock import isoformat
from mockserver.files import BlobStore
from mockserver.fixtures import (
    Fixtures,
    ImmutableCollection,
    ImmutableKey,
    RairContract,
    RairUser,
)

RairKey = tuple[str, str, int, int]
NftKey = tuple[str, str, int]


@dataclasses.dataclass(frozen=True)
class PendingRefresh:
    """Metadata accepted by a refresh, to show in reads from `due` on."""

    due: float
    key: NftKey
    token_id: str
    metadata: dict[str, Any]


class Store:
    """All records of the three APIs plus uploaded files."""

    def __init__(self, fixtures: Fixtures) -> None:
        self._lock = threading.RLock()
        self.blobs = BlobStore()
        self.load(fixtures)

    def load(self, fixtures: Fixtures) -> None:
        """Replace every record with a fresh copy of `fixtures` (used at start and on reset)."""
        seed = fixtures.copy()
        with self._lock:
            self.fixtures = fixtures
            self.blobs.clear()
            self._rair_users = {u.credential: u for u in seed.rair_users}
            self._rair_contracts = {(c.network, c.address): c for c in seed.rair_contracts}
            self._rair_tokens = seed.rair_tokens
            self._chains = seed.immutable_chains
            self._keys = {k.key: k for k in seed.immutable_keys}
            self._collections = {(c.chain, c.address): c for c in seed.immutable_collections}
            self._nfts = seed.immutable_nfts
            self._pending: list[PendingRefresh] = []
            self._bearers = frozenset(seed.tokenization_bearers)
            self._tokens = seed.tokenization_tokens
            self.attachment_blobs: dict[str, str] = {}
            for attachment in seed.tokenization_attachments:
                self.attachment_blobs[attachment.id] = self.blobs.put(attachment.data, attachment.content_type)

    # RAIR

    def rair_user(self, credential: str) -> RairUser | None:
        return self._rair_users.get(credential)

    def rair_contract(self, network: str, address: str) -> RairContract | None:
        return self._rair_contracts.get((network.lower(), address.lower()))

    def rair_has_product(self, network: str, address: str, product: int) -> bool:
        network, address = network.lower(), address.lower()
        with self._lock:
            return any(k[:3] == (network, address, product) for k in self._rair_tokens)

    def rair_token(self, key: RairKey) -> dict[str, Any] | None:
        with self._lock:
            token = self._rair_tokens.get(_rair_key(key))
            return copy.deepcopy(token) if token is not None else None

    def update_rair_token(self, key: RairKey, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Merge `metadata` into the token's metadata; the new URI is no longer on chain."""
        with self._lock:
            token = self._rair_tokens[_rair_key(key)]
            token["metadata"].update(copy.deepcopy(dict(metadata)))
            token["isURIStoredToBlockchain"] = False
            return copy.deepcopy(token)

    def rair_tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._rair_tokens.values()))

    # Immutable

    def immutable_key(self, key: str) -> ImmutableKey | None:
        return self._keys.get(key)

    def chain(self, name: str) -> dict[str, str] | None:
        chain = self._chains.get(name)
        return dict(chain) if chain is not None else None

    def collection(self, chain: str, address: str) -> ImmutableCollection | None:
        return self._collections.get((chain, address.lower()))

    def schedule_refresh(self, refreshes: Iterable[PendingRefresh]) -> None:
        with self._lock:
            self._pending.extend(refreshes)

    def nft(self, chain: str, address: str, token_id: int, *, now: float) -> dict[str, Any] | None:
        with self._lock:
            self._apply_due(now)
            nft = self._nfts.get((chain, address.lower(), token_id))
            return copy.deepcopy(nft) if nft is not None else None

    def nfts(self, chain: str, address: str, *, now: float) -> list[dict[str, Any]]:
        """The collection's NFTs in token-id order."""
        address = address.lower()
        with self._lock:
            self._apply_due(now)
            keys = sorted(k for k in self._nfts if k[:2] == (chain, address))
            return [copy.deepcopy(self._nfts[k]) for k in keys]

    def all_nfts(self, *, now: float) -> list[dict[str, Any]]:
        """Every NFT of every collection, by chain, collection and token id."""
        with self._lock:
            self._apply_due(now)
            return [copy.deepcopy(self._nfts[k]) for k in sorted(self._nfts)]

    def pending_refreshes(self) -> int:
        with self._lock:
            return len(self._pending)

    def _apply_due(self, now: float) -> None:
        due = [p for p in self._pending if p.due <= now]
        if not due:
            return
        self._pending = [p for p in self._pending if p.due > now]
        for refresh in sorted(due, key=lambda p: p.due):
            chain, address, _ = refresh.key
            collection = self._collections[(chain, address)]
            nft = self._nfts.get(refresh.key)
            if nft is None:
                # A refresh names a token the indexer had not seen: it is indexed now.
                nft = _new_nft(self._chains[chain], collection, refresh.token_id, refresh.due)
                self._nfts[refresh.key] = nft
            nft.update(copy.deepcopy(refresh.metadata))
            nft["external_link"] = nft.get("external_url")
            stamp = _isoformat(refresh.due)
            nft["metadata_synced_at"] = stamp
            nft["updated_at"] = stamp

    # Tokenization

    def bearer_known(self, token: str) -> bool:
        return token in self._bearers

    def tokenization_token(self, token_id: str) -> dict[str, Any] | None:
        with self._lock:
            token = self._tokens.get(token_id.lower())
            return copy.deepcopy(token) if token is not None else None

    def replace_tokenization_token(self, token_id: str, token: Mapping[str, Any], blobs: Mapping[str, str]) -> None:
        """Store an updated token and the blob keys of any attachments it gained."""
        with self._lock:
            self._tokens[token_id.lower()] = copy.deepcopy(dict(token))
            self.attachment_blobs.update(blobs)

    def tokenization_tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._tokens.values()))

    def __repr__(self) -> str:
        return (
            f"Store(rair_tokens={len(self._rair_tokens)}, nfts={len(self._nfts)}, "
            f"tokenization_tokens={len(self._tokens)}, blobs={len(self.blobs)})"
        )


def _rair_key(key: RairKey) -> RairKey:
    network, address, product, token = key
    return network.lower(), address.lower(), product, token


def _new_nft(chain: Mapping[str, str], collection: ImmutableCollection, token_id: str, at: float) -> dict[str, Any]:
    stamp = _isoformat(at)
    return {
        "chain": dict(chain), "token_id": token_id, "contract_address": collection.address,
        "contract_type": collection.contract_type, "indexed_at": stamp, "updated_at": stamp,
        "metadata_synced_at": stamp, "metadata_id": None, "name": None, "description": None, "image": None,
        "external_link": None, "external_url": None, "animation_url": None, "youtube_url": None,
        "attributes": [], "total_supply": "1",
    }


def _isoformat(epoch: float) -> str:
    return isoformat(datetime.fromtimestamp(epoch, tz=UTC))
