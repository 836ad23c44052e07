"""The state of all three APIs, seeded from fixtures and reset to them on demand.

`Store` is the interface the services use; `MemoryStore` keeps everything in this process (the default) and
`mockserver.store_redis.RedisStore` keeps it in Redis, shared by every worker and host that names the same URL
and prefix. Either way records are handed out as deep copies and changed only atomically, so a request never
sees another's half-applied update and no update is lost to a concurrent one. Immutable refreshes are queued
with the time they become visible and applied on the next read after that time (no background task, so a
manual clock controls it).
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import heapq
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from mockserver.clock import isoformat
from mockserver.errors import ConfigError
from mockserver.files import Blob, BlobStore
from mockserver.fixtures import (
    Fixtures,
    ImmutableCollection,
    ImmutableKey,
    RairContract,
    RairUser,
)
from mockserver.settings import redact_url

RairKey = tuple[str, str, int, int]
NftKey = tuple[str, str, int]
# Changes a Tokenization token in place and returns the blob keys of the attachments it added, by attachment id.
TokenChange = Callable[[dict[str, Any]], Mapping[str, str]]
MEMORY_URL = "memory://"
REDIS_SCHEMES = ("redis", "rediss", "unix")


@dataclasses.dataclass(frozen=True)
class PendingRefresh:
    """Metadata accepted by a refresh, to show in reads from `due` on."""

    due: float
    key: NftKey
    token_id: str
    metadata: dict[str, Any]


class Blobs(Protocol):
    """Uploaded files by content hash (`files.BlobStore` in memory)."""

    def put(self, data: bytes, content_type: str) -> str: ...

    def get(self, key: str) -> Blob | None: ...

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class Store(abc.ABC):
    """All records of the three APIs plus uploaded files: what the services read and change."""

    blobs: Blobs

    @property
    @abc.abstractmethod
    def fixtures(self) -> Fixtures:
        """The fixtures the records were last loaded from (what a reset goes back to)."""

    @property
    @abc.abstractmethod
    def attachment_blobs(self) -> Mapping[str, str]:
        """The blob key of every Tokenization attachment, by attachment id."""

    @abc.abstractmethod
    def load(self, fixtures: Fixtures) -> None:
        """Replace every record and upload with a fresh copy of `fixtures` (used on reset)."""

    @abc.abstractmethod
    def ensure_loaded(self) -> None:
        """Load the fixtures again if the state vanished underneath (a shared store restarted empty); raise
        `StoreUnavailable` if the store does not answer."""

    # RAIR

    @abc.abstractmethod
    def rair_user(self, credential: str) -> RairUser | None: ...

    @abc.abstractmethod
    def rair_contract(self, network: str, address: str) -> RairContract | None: ...

    @abc.abstractmethod
    def rair_has_product(self, network: str, address: str, product: int) -> bool: ...

    @abc.abstractmethod
    def rair_token(self, key: RairKey) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def update_rair_token(self, key: RairKey, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Merge `metadata` into the token's metadata; the new URI is no longer on chain."""

    @abc.abstractmethod
    def rair_tokens(self) -> list[dict[str, Any]]: ...

    # Immutable

    @abc.abstractmethod
    def immutable_key(self, key: str) -> ImmutableKey | None: ...

    @abc.abstractmethod
    def chain(self, name: str) -> dict[str, str] | None: ...

    @abc.abstractmethod
    def collection(self, chain: str, address: str) -> ImmutableCollection | None: ...

    @abc.abstractmethod
    def schedule_refresh(self, refreshes: Iterable[PendingRefresh]) -> None: ...

    def apply_due(self, now: float) -> None:
        """Apply every queued refresh due by `now` (reads do this too; writers call it so nothing piles up)."""
        self._apply_due(now)

    @abc.abstractmethod
    def _apply_due(self, now: float) -> None: ...

    @abc.abstractmethod
    def nft(self, chain: str, address: str, token_id: int, *, now: float) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def nfts(self, chain: str, address: str, *, now: float) -> list[dict[str, Any]]:
        """The collection's NFTs in token-id order."""

    @abc.abstractmethod
    def all_nfts(self, *, now: float) -> list[dict[str, Any]]:
        """Every NFT of every collection, by chain, collection and token id."""

    @abc.abstractmethod
    def pending_refreshes(self) -> int: ...

    # Tokenization

    @abc.abstractmethod
    def bearer_known(self, token: str) -> bool: ...

    @abc.abstractmethod
    def tokenization_token(self, token_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def update_tokenization_token(self, token_id: str, change: TokenChange) -> dict[str, Any] | None:
        """Apply `change` to a copy of the token and store the result and its new blobs, as one atomic step.

        `change` may run more than once (when a concurrent update wins the race, it runs again on that result),
        so it must do nothing but change the token it is given (storing blobs, which is idempotent, is fine);
        an exception from it stores nothing. Returns the token as stored, or None when there is no such token.
        """

    @abc.abstractmethod
    def replace_tokenization_token(self, token_id: str, token: Mapping[str, Any], blobs: Mapping[str, str]) -> None:
        """Store an updated token and the blob keys of any attachments it gained."""

    @abc.abstractmethod
    def tokenization_tokens(self) -> list[dict[str, Any]]: ...


def open_store(url: str, fixtures: Fixtures, *, prefix: str = "mockserver:") -> Store:
    """The store a URL names: `memory://`, or Redis (`redis://`, `rediss://`, `unix://`) under a key prefix.

    A Redis store is seeded with `fixtures` only when its namespace is empty, so every worker that opens it
    shares the state the first one created.
    """
    if url == MEMORY_URL:
        return MemoryStore(fixtures)
    if urlsplit(url).scheme in REDIS_SCHEMES:
        try:
            from mockserver.store_redis import RedisStore
        except ImportError as exc:
            raise ConfigError(f"store {redact_url(url)!r} needs the redis package: "
                              f"pip install 'token-metadata-mock[redis]' ({exc})") from exc
        return RedisStore(fixtures, url, prefix=prefix)
    raise ConfigError(f"store {redact_url(url)!r} is not memory:// or a redis://, rediss:// or unix:// URL")


class MemoryStore(Store):
    """Everything in this process, behind one lock."""

    def __init__(self, fixtures: Fixtures) -> None:
        self._lock = threading.RLock()
        self.blobs = BlobStore()
        self.load(fixtures)

    @property
    def fixtures(self) -> Fixtures:
        return self._fixtures

    @property
    def attachment_blobs(self) -> Mapping[str, str]:
        return self._attachment_blobs

    def ensure_loaded(self) -> None:
        """Nothing outside this process can empty it, and it always answers."""

    def load(self, fixtures: Fixtures) -> None:
        seed = fixtures.copy()
        with self._lock:
            self._fixtures = fixtures
            self.blobs.clear()
            self._rair_users = {u.credential: u for u in seed.rair_users}
            self._rair_contracts = {(c.network, c.address): c for c in seed.rair_contracts}
            self._rair_tokens = seed.rair_tokens
            # (network, contract, product) of every token, so a product check does not scan every token.
            self._rair_products = {key[:3] for key in self._rair_tokens}
            self._chains = seed.immutable_chains
            self._keys = {k.key: k for k in seed.immutable_keys}
            self._collections = {(c.chain, c.address): c for c in seed.immutable_collections}
            self._nfts = seed.immutable_nfts
            # Token ids by (chain, contract), so listing a collection does not scan every NFT.
            self._nft_ids: dict[tuple[str, str], set[int]] = {}
            for chain, address, token_id in self._nfts:
                self._nft_ids.setdefault((chain, address), set()).add(token_id)
            # A heap by due time (then arrival), so applying what is due never scans what is not.
            self._pending: list[tuple[float, int, PendingRefresh]] = []
            self._arrivals = itertools.count()
            self._bearers = frozenset(seed.tokenization_bearers)
            self._tokens = seed.tokenization_tokens
            self._attachment_blobs: dict[str, str] = {}
            for attachment in seed.tokenization_attachments:
                self._attachment_blobs[attachment.id] = self.blobs.put(attachment.data, attachment.content_type)

    # RAIR

    def rair_user(self, credential: str) -> RairUser | None:
        return self._rair_users.get(credential)

    def rair_contract(self, network: str, address: str) -> RairContract | None:
        return self._rair_contracts.get((network.lower(), address.lower()))

    def rair_has_product(self, network: str, address: str, product: int) -> bool:
        network, address = network.lower(), address.lower()
        with self._lock:
            return (network, address, product) in self._rair_products

    def rair_token(self, key: RairKey) -> dict[str, Any] | None:
        with self._lock:
            token = self._rair_tokens.get(rair_key(key))
            return copy.deepcopy(token) if token is not None else None

    def update_rair_token(self, key: RairKey, metadata: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            token = self._rair_tokens[rair_key(key)]
            merge_rair_metadata(token, metadata)
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
            for refresh in refreshes:
                heapq.heappush(self._pending, (refresh.due, next(self._arrivals), refresh))

    def apply_due(self, now: float) -> None:
        with self._lock:
            self._apply_due(now)

    def nft(self, chain: str, address: str, token_id: int, *, now: float) -> dict[str, Any] | None:
        with self._lock:
            self._apply_due(now)
            nft = self._nfts.get((chain, address.lower(), token_id))
            return copy.deepcopy(nft) if nft is not None else None

    def nfts(self, chain: str, address: str, *, now: float) -> list[dict[str, Any]]:
        address = address.lower()
        with self._lock:
            self._apply_due(now)
            ids = sorted(self._nft_ids.get((chain, address), ()))
            return [copy.deepcopy(self._nfts[(chain, address, token_id)]) for token_id in ids]

    def all_nfts(self, *, now: float) -> list[dict[str, Any]]:
        with self._lock:
            self._apply_due(now)
            return [copy.deepcopy(self._nfts[k]) for k in sorted(self._nfts)]

    def pending_refreshes(self) -> int:
        with self._lock:
            return len(self._pending)

    def _apply_due(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            refresh = heapq.heappop(self._pending)[2]
            chain, address, token_id = refresh.key
            self._nft_ids.setdefault((chain, address), set()).add(token_id)
            self._nfts[refresh.key] = apply_refresh(self._nfts.get(refresh.key), refresh, self._chains[chain],
                                                    self._collections[(chain, address)])

    # Tokenization

    def bearer_known(self, token: str) -> bool:
        return token in self._bearers

    def tokenization_token(self, token_id: str) -> dict[str, Any] | None:
        with self._lock:
            token = self._tokens.get(token_id.lower())
            return copy.deepcopy(token) if token is not None else None

    def update_tokenization_token(self, token_id: str, change: TokenChange) -> dict[str, Any] | None:
        with self._lock:
            stored = self._tokens.get(token_id.lower())
            if stored is None:
                return None
            token = copy.deepcopy(stored)
            blobs = change(token)
            self._tokens[token_id.lower()] = token
            self._attachment_blobs.update(blobs)
            return copy.deepcopy(token)

    def replace_tokenization_token(self, token_id: str, token: Mapping[str, Any], blobs: Mapping[str, str]) -> None:
        with self._lock:
            self._tokens[token_id.lower()] = copy.deepcopy(dict(token))
            self._attachment_blobs.update(blobs)

    def tokenization_tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._tokens.values()))

    def __repr__(self) -> str:
        return (
            f"MemoryStore(rair_tokens={len(self._rair_tokens)}, nfts={len(self._nfts)}, "
            f"tokenization_tokens={len(self._tokens)}, blobs={len(self.blobs)})"
        )


def rair_key(key: RairKey) -> RairKey:
    """A RAIR token's key as stored: network and contract address in lower case."""
    network, address, product, token = key
    return network.lower(), address.lower(), product, token



def merge_rair_metadata(token: dict[str, Any], metadata: Mapping[str, Any]) -> None:
    """A RAIR update, in place: `metadata` merged into the token's, whose URI is no longer the one on chain."""
    token["metadata"].update(copy.deepcopy(dict(metadata)))
    token["isURIStoredToBlockchain"] = False


def apply_refresh(nft: dict[str, Any] | None, refresh: PendingRefresh, chain: Mapping[str, str],
                  collection: ImmutableCollection) -> dict[str, Any]:
    """The NFT with a due refresh applied (changed in place when there is one), stamped with the due time."""
    if nft is None:
        # A refresh names a token the indexer had not seen: it is indexed now.
        nft = _new_nft(chain, collection, refresh.token_id, refresh.due)
    # Refreshed metadata is plain JSON one list of objects deep (attributes of scalar values), so copying those
    # levels keeps the NFT from sharing anything with the refresh; a deep copy costs a sixth of a refresh.
    nft.update(refresh.metadata)
    if "attributes" in refresh.metadata:
        nft["attributes"] = [dict(attribute) for attribute in refresh.metadata["attributes"] or []]
    nft["external_link"] = nft.get("external_url")
    stamp = _isoformat(refresh.due)
    nft["metadata_synced_at"] = stamp
    nft["updated_at"] = stamp
    return nft


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
