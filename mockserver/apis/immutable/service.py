"""Immutable zkEVM: metadata refresh (by token id, and of stacked metadata by id) under a per-project quota, and
the NFT and metadata reads that show its effect."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypedDict, cast

from mockserver.apis.base import random_trace_id
from mockserver.apis.immutable.fixtures import ImmutableCollection, ImmutableKey, immutable_fixtures
from mockserver.apis.immutable.settings import ImmutableSettings
from mockserver.clock import Clock, epoch_isoformat
from mockserver.compactjson import compact_sizes
from mockserver.errors import ApiError
from mockserver.fixtures import Fixtures
from mockserver.ratelimit import Quota, QuotaLimiter
from mockserver.store import Record, RecordSets, Scheduled, Seed, SeedView, Store

KiB = 1024
MAX_LIST_BYTES = 228 * KiB
MAX_ITEM_BYTES = 16 * KiB
MAX_STACKED_ITEMS = 10
UINT256_LIMIT = 2**256
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
REFRESH_SCOPE = "refresh:metadata"
# Keys of an NFTMetadataRequest; anything else an item carries is accepted (the schema allows it) but not stored.
_REFRESHABLE = frozenset({"name", "description", "image", "external_url", "animation_url", "youtube_url",
                          "attributes"})
_REFRESHABLE_OR_ID = _REFRESHABLE | {"token_id"}
DOCS_LINK = "https://docs.immutable.com/api/zkEVM/"
CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORISED_REQUEST",
    403: "AUTHENTICATION_ERROR",
    404: "RESOURCE_NOT_FOUND",
    429: "TOO_MANY_REQUESTS_ERROR",
    500: "INTERNAL_SERVER_ERROR",
}
_OTHER_CODES = {
    405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 408: "REQUEST_TIMEOUT", 413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE", 431: "REQUEST_HEADER_FIELDS_TOO_LARGE", 503: "SERVICE_UNAVAILABLE",
}

# The kinds of record Immutable keeps in the store; refreshes are queued changes to NFTS and (stacked) METADATA.
CHAINS, KEYS, COLLECTIONS, NFTS = "immutable:chains", "immutable:keys", "immutable:collections", "immutable:nfts"
METADATA = "immutable:metadata"
# (chain, contract address in lower case, token id)
NftKey = tuple[str, str, int]
# (chain, contract address in lower case, metadata id in lower case)
MetadataKey = tuple[str, str, str]
# The refresh operations, each of which spends the project's budget (one budget unless configured otherwise).
REFRESH_BY_TOKEN_ID, REFRESH_BY_METADATA_ID = "RefreshNFTMetadataByTokenID", "RefreshMetadataByID"


class Chain(TypedDict):
    id: str
    name: str


class Nft(TypedDict):
    """An NFT record as Immutable's reads return it (`fixtures.py` makes them, refreshes change them)."""

    chain: Chain
    token_id: str
    contract_address: str
    contract_type: str
    indexed_at: str
    updated_at: str
    metadata_synced_at: str | None
    metadata_id: str | None
    name: str | None
    description: str | None
    image: str | None
    external_link: str | None
    external_url: str | None
    animation_url: str | None
    youtube_url: str | None
    attributes: list[dict[str, Any]]
    total_supply: str | None

TraceIds = Callable[[], str]


# Where the trace ids of the request being served come from: `request_scope` sets the server's own source
# (seeded when the server has a seed) for each request; anywhere else they are unpredictable.
TRACE_IDS: ContextVar[TraceIds] = ContextVar("trace_ids", default=random_trace_id)


def current_trace_id() -> str:
    return TRACE_IDS.get()()


def make_error_renderer(trace_ids: TraceIds) -> Callable[[ApiError], dict[str, Any]]:
    def render_error(error: ApiError) -> dict[str, Any]:
        """Immutable's error body: the code belongs to the status, `details` names the field of a 400."""
        code = CODES.get(error.status) or _OTHER_CODES.get(error.status, "INTERNAL_SERVER_ERROR")
        details = {"field": error.field or "body"} if error.status == 400 else None
        return {"message": error.message, "link": DOCS_LINK, "trace_id": trace_ids(), "code": code, "details": details}

    return render_error


render_error = make_error_renderer(current_trace_id)



class PendingRefresh(NamedTuple):
    """Metadata accepted by a refresh, to show in reads from `due` on (a tuple: cheap to make 250 of)."""

    due: float
    key: NftKey
    token_id: str
    metadata: dict[str, Any]


def seed_part(fixtures: Fixtures) -> tuple[RecordSets, list[tuple[bytes, str]]]:
    """Immutable's records of a store loaded with `fixtures` (it has no files of its own)."""
    section = immutable_fixtures(fixtures)
    return {
        CHAINS: {(name,): chain for name, chain in section.chains.items()},
        KEYS: {(key.key,): {"key": key.key, "project": key.project, "scopes": sorted(key.scopes)}
               for key in section.keys},
        COLLECTIONS: {(c.chain, c.address): dataclasses.asdict(c) for c in section.collections},
        NFTS: dict(section.nfts.items()),
        METADATA: dict(section.metadata.items()),
    }, []


class ImmutableRecords:
    """Immutable's records in the store: API keys, chains, collections and NFTs, with refreshes applied when due."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # API keys, chains and collections never change but by a load.
        self._fixed = SeedView(store, _FixedRecords.of)

    def key(self, key: str) -> ImmutableKey | None:
        return self._fixed.get().keys.get(key)

    def fixed(self) -> _FixedRecords:
        """The API keys, chains and collections, read together (on Redis, one look at the seed's generation)."""
        return self._fixed.get()

    def chain(self, name: str) -> dict[str, str] | None:
        chain = self._fixed.get().chains.get(name)
        return dict(chain) if chain is not None else None

    def collection(self, chain: str, address: str) -> ImmutableCollection | None:
        return self._fixed.get().collection(chain, address)

    def projects(self) -> list[str]:
        """Every project that has an API key, in name order."""
        return sorted({key.project for key in self._fixed.get().keys.values()})

    def schedule_refresh(self, refreshes: Iterable[tuple[float, NftKey, str, dict[str, Any]]], *,
                         now: float | None = None) -> None:
        """Queue refreshes (`PendingRefresh`es, or plain tuples of the same fields); given `now`, apply every
        one due by then, queued before or now."""
        changes = (Scheduled(due, key, {"token_id": token_id, "metadata": metadata})
                   for due, key, token_id, metadata in refreshes)
        if now is None:
            self._store.schedule(NFTS, changes)
        else:
            self._store.schedule_and_apply(NFTS, changes, now=now, apply=self._apply_refresh)

    def apply_due(self, now: float) -> None:
        """Apply every queued refresh due by `now` (reads do this too; writers call it so nothing piles up)."""
        self._store.apply_due(NFTS, now, self._apply_refresh)

    def nft(self, chain: str, address: str, token_id: int, *, now: float) -> Nft | None:
        return cast(Nft | None, self._store.get_applied(NFTS, (chain, address.lower(), token_id), now=now,
                                                        apply=self._apply_refresh))

    def nfts(self, chain: str, address: str, *, now: float) -> list[Nft]:
        """The collection's NFTs in token-id order."""
        self.apply_due(now)
        return [cast(Nft, nft) for _, nft in self._store.items(NFTS, group=(chain, address.lower()))]

    def all_nfts(self, *, now: float) -> list[Nft]:
        """Every NFT of every collection, by chain, collection and token id."""
        self.apply_due(now)
        return [cast(Nft, nft) for _, nft in self._store.items(NFTS)]

    def pending_refreshes(self) -> int:
        return self._store.pending(NFTS)

    def schedule_metadata_refresh(self, due: float, key: MetadataKey, metadata: dict[str, Any]) -> None:
        """Queue new values for stacked metadata and for every NFT of its collection that carries it."""
        chain, address, metadata_id = key
        self._store.schedule(METADATA, [Scheduled(due, key, {"metadata": metadata})])
        self.schedule_refresh(
            PendingRefresh(due, (chain, address, int(nft["token_id"])), nft["token_id"], metadata)
            for _, nft in self._store.items(NFTS, group=(chain, address))
            if str(nft.get("metadata_id") or "").lower() == metadata_id
        )

    def apply_due_metadata(self, now: float) -> None:
        self._store.apply_due(METADATA, now, _apply_metadata_refresh)

    def metadata(self, chain: str, address: str, metadata_id: str, *, now: float) -> dict[str, Any] | None:
        return self._store.get_applied(METADATA, (chain, address.lower(), metadata_id.lower()), now=now,
                                       apply=_apply_metadata_refresh)

    def metadata_list(self, chain: str, address: str, *, now: float) -> list[dict[str, Any]]:
        """The collection's stacked metadata in id order."""
        self.apply_due_metadata(now)
        return [metadata for _, metadata in self._store.items(METADATA, group=(chain, address.lower()))]

    def all_metadata(self, *, now: float) -> list[dict[str, Any]]:
        """Every stacked metadata of every collection, by chain, collection and id."""
        self.apply_due_metadata(now)
        return [metadata for _, metadata in self._store.items(METADATA)]

    def pending_metadata_refreshes(self) -> int:
        return self._store.pending(METADATA)

    def _apply_refresh(self, nft: Record | None, refresh: Scheduled) -> Record:
        """The NFT with a due refresh applied (changed in place when there is one), stamped with the due time."""
        metadata: dict[str, Any] = refresh.change["metadata"]
        if nft is None:
            # A refresh names a token the indexer had not seen: it is indexed now.
            chain, address, _ = refresh.key
            nft = self._new_nft(str(chain), str(address), refresh.change["token_id"], refresh.due)
        # No copy: the metadata is the service's own (`_metadata_of` took it over from the request, or the Redis
        # store just read it), and a scheduled change is applied once, so the NFT shares it with nothing.
        nft.update(metadata)
        if metadata.get("attributes", []) is None:  # NFTs have no null list
            nft["attributes"] = []
        nft["external_link"] = nft.get("external_url")
        stamp = _isoformat(refresh.due)
        nft["metadata_synced_at"] = stamp
        nft["updated_at"] = stamp
        return nft

    def _new_nft(self, chain_name: str, address: str, token_id: str, at: float) -> Record:
        chain, collection = self.chain(chain_name), self.collection(chain_name, address)
        if chain is None or collection is None:  # pragma: no cover - a reset replaces records and queue at once
            raise LookupError("a queued refresh names a chain or collection the store does not have")
        stamp = _isoformat(at)
        return {
            "chain": chain, "token_id": token_id, "contract_address": collection.address,
            "contract_type": collection.contract_type, "indexed_at": stamp, "updated_at": stamp,
            "metadata_synced_at": stamp, "metadata_id": None, "name": None, "description": None, "image": None,
            "external_link": None, "external_url": None, "animation_url": None, "youtube_url": None,
            "attributes": [], "total_supply": "1",
        }


def _apply_metadata_refresh(metadata: Record | None, refresh: Scheduled) -> Record:
    """Stacked metadata with a due refresh applied, stamped with the due time."""
    if metadata is None:  # pragma: no cover - a reset replaces records and queue at once
        raise LookupError("a queued refresh names stacked metadata the store does not have")
    metadata.update(refresh.change["metadata"])
    metadata["attributes"] = [dict(attribute) for attribute in metadata["attributes"]]
    metadata["external_link"] = metadata.get("external_url")
    metadata["updated_at"] = _isoformat(refresh.due)
    return metadata


@dataclasses.dataclass(frozen=True)
class _FixedRecords:
    keys: dict[str, ImmutableKey]
    chains: dict[str, dict[str, str]]
    collections: dict[tuple[str, str], ImmutableCollection]

    def collection(self, chain: str, address: str) -> ImmutableCollection | None:
        return self.collections.get((chain, address.lower()))

    @classmethod
    def of(cls, seed: Seed) -> _FixedRecords:
        keys = [ImmutableKey(key=k["key"], project=k["project"], scopes=frozenset(k["scopes"]))
                for k in seed.records.get(KEYS, {}).values()]
        collections = [ImmutableCollection(**c) for c in seed.records.get(COLLECTIONS, {}).values()]
        return cls(
            keys={key.key: key for key in keys},
            chains={str(name): chain for (name,), chain in seed.records.get(CHAINS, {}).items()},
            collections={(c.chain, c.address.lower()): c for c in collections},
        )


@functools.lru_cache(maxsize=64)  # every item of a refresh is stamped with the same due time
def _isoformat(epoch: float) -> str:
    return epoch_isoformat(epoch)


class RefreshAccepted(NamedTuple):
    """A refresh the API accepted: the body and headers of its 202 (a named tuple: every refresh makes one, and a
    frozen dataclass's `__init__` costs several times a tuple's)."""

    body: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def mirroring(cls, headers: dict[str, str]) -> RefreshAccepted:
        """A 202 whose body mirrors its rate headers as strings (`imx-refreshes-limit` as `imx_refreshes_limit`)."""
        return cls(body={_BODY_NAMES.get(name) or name.replace("-", "_"): value for name, value in headers.items()},
                   headers=headers)


# The rate headers' names in a 202's body, known ahead (every refresh mirrors them).
_BODY_NAMES = {name: name.replace("-", "_") for name in
               ("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes", "retry-after")}


class ImmutableService:
    """Refresh metadata under a quota; read NFTs with refreshed metadata applied once due."""

    def __init__(self, records: ImmutableRecords, settings: ImmutableSettings, clock: Clock,
                 limiter: QuotaLimiter, *, trace_ids: TraceIds = random_trace_id) -> None:
        self.records = records
        self.trace_ids = trace_ids
        self.settings = settings
        self._clock = clock
        self.limiter = limiter

    def authenticate(self, api_key: str) -> ImmutableKey:
        key = self.records.key(api_key)
        if key is None:
            raise ApiError(401, "Unauthorised request: the API key is not valid.")
        return key

    def refresh(self, key: ImmutableKey, chain: str, contract: str, body: Mapping[str, Any]) -> RefreshAccepted:
        """Accept a refresh by token id. `body` is taken over, not copied: its items become the stored (or
        queued) metadata, so pass one parsed for this call and do not use it afterwards."""
        items: list[dict[str, Any]] = body["nft_metadata"]
        token_ids = _check_items(items)
        collection = self._collection(chain, contract)
        self._authorise(key, collection, chain, contract)
        headers = self._spend(key, REFRESH_BY_TOKEN_ID, len(items))
        now = self._clock.time()
        due = now + self.settings.refresh_delay
        address = collection.address
        self.records.schedule_refresh([  # with no delay, applied now rather than queued; tuples: 250 are cheap
            (due, (chain, address, token_id), str(token_id), _metadata_of(item))
            for token_id, item in zip(token_ids, items, strict=True)
        ], now=now)
        return RefreshAccepted.mirroring(headers)

    def refresh_stacked(self, key: ImmutableKey, chain: str, contract: str,
                        body: Mapping[str, Any]) -> RefreshAccepted:
        """Refresh stacked metadata by id: the metadata and every NFT carrying it show the values when due.
        `body` is taken over, as by `refresh`."""
        items: list[dict[str, Any]] = body["metadata"]
        metadata_ids = _check_stacked_items(items)
        collection = self._collection(chain, contract)
        self._authorise(key, collection, chain, contract)
        now = self._clock.time()
        for index, metadata_id in enumerate(metadata_ids):
            if self.records.metadata(chain, collection.address, metadata_id, now=now) is None:
                raise ApiError(404, f"Metadata {items[index]['metadata_id']} (metadata[{index}]) not found in "
                                    f"collection {contract} on {chain}; nothing was refreshed.")
        headers = self._spend(key, REFRESH_BY_METADATA_ID, len(items))
        due = now + self.settings.refresh_delay
        for metadata_id, item in zip(metadata_ids, items, strict=True):
            self.records.schedule_metadata_refresh(due, (chain, collection.address, metadata_id), _metadata_of(item))
        self.records.apply_due_metadata(now)  # with no delay, applied now rather than queued
        self.records.apply_due(now)
        return RefreshAccepted.mirroring(headers)

    def budget(self, project: str, operation: str) -> str:
        """The limiter key a refresh operation of a project spends: the project's one budget unless
        `immutable.rate_limit.shared` is off, when the stacked refresh has its own."""
        if self.settings.rate_limit.shared or operation == REFRESH_BY_TOKEN_ID:
            return project
        return f"{project}/{operation}"

    def _authorise(self, key: ImmutableKey, collection: ImmutableCollection, chain: str, contract: str) -> None:
        if REFRESH_SCOPE not in key.scopes:
            raise ApiError(403, f"The API key lacks the {REFRESH_SCOPE} scope needed to refresh metadata.")
        if collection.project != key.project:
            raise ApiError(403, f"The API key's project does not own collection {contract} on {chain}.")

    def _spend(self, key: ImmutableKey, operation: str, items: int) -> dict[str, str]:
        """Spend a refresh from the project's budget: the rate headers of the 202, or a 429 with them."""
        cost = items if self.settings.rate_limit.cost == "item" else 1
        accepted, quota = self.limiter.hit(self.budget(key.project, operation), cost=cost)
        headers = self.quota_headers(quota)
        if not accepted:
            headers["Retry-After"] = str(quota.seconds_to_reset(self._clock.time()))
            del headers["retry-after"]
            raise ApiError(
                429, f"Too many metadata refreshes: this request costs {cost} and the project has {quota.remaining} "
                     f"of its {quota.limit} per window left.",
                headers=headers,
            )
        return headers

    def now(self) -> float:
        return self._clock.time()

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        """The four rate-limit headers as Immutable sends them on a 202."""
        now = self._clock.time()
        retry_after = 0 if quota.remaining > 0 else quota.seconds_to_reset(now)
        return {
            "imx-refreshes-limit": str(quota.limit),
            "imx-refresh-limit-reset": go_time(quota.reset),
            "imx-remaining-refreshes": str(quota.remaining),
            "retry-after": str(retry_after),
        }

    def get_nft(self, chain: str, contract: str, token_id: str) -> dict[str, Any]:
        self._collection(chain, contract)
        nft = self.records.nft(chain, contract, _uint256(token_id, "token_id"), now=self._clock.time())
        if nft is None:
            raise ApiError(404, f"NFT {token_id} not found in collection {contract} on {chain}.")
        return {"result": nft}

    def list_nfts(
        self,
        chain: str,
        contract: str,
        *,
        token_ids: Sequence[str] | None = None,
        from_updated_at: str | None = None,
        page_cursor: str | None = None,
        page_size: int = 100,
    ) -> dict[str, Any]:
        self._collection(chain, contract)
        nfts = self.records.nfts(chain, contract, now=self._clock.time())
        if token_ids:
            wanted = {_uint256(t, "token_id") for t in token_ids}
            nfts = [nft for nft in nfts if int(nft["token_id"]) in wanted]
        if from_updated_at:
            since = _parse_time(from_updated_at)
            nfts = [nft for nft in nfts if _parse_time(nft["updated_at"]) >= since]
        return _page(nfts, page_cursor, page_size)

    def get_metadata(self, chain: str, contract: str, metadata_id: str) -> dict[str, Any]:
        self._collection(chain, contract)
        _uuid(metadata_id, "metadata_id")
        metadata = self.records.metadata(chain, contract, metadata_id, now=self._clock.time())
        if metadata is None:
            raise ApiError(404, f"Metadata {metadata_id} not found in collection {contract} on {chain}.")
        return {"result": metadata}

    def list_metadata(self, chain: str, contract: str, *, from_updated_at: str | None = None,
                      page_cursor: str | None = None, page_size: int = 100) -> dict[str, Any]:
        self._collection(chain, contract)
        listed = self.records.metadata_list(chain, contract, now=self._clock.time())
        if from_updated_at:
            since = _parse_time(from_updated_at)
            listed = [m for m in listed if _parse_time(m["updated_at"] or m["created_at"]) >= since]
        return _page(listed, page_cursor, page_size)

    def _collection(self, chain: str, contract: str) -> ImmutableCollection:
        fixed = self.records.fixed()
        if chain not in fixed.chains:
            raise ApiError(404, f"Chain {chain} not found.")
        collection = fixed.collection(chain, contract)
        if collection is None:
            raise ApiError(404, f"Collection {contract} not found on {chain}.")
        return collection


@functools.lru_cache(maxsize=256)  # a fixed window's reset is the same for every request in it
def go_time(epoch: float) -> str:
    """A time as Go's `time.Time.String()` prints it in UTC, the form of `imx-refresh-limit-reset`."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f".{fraction}" if fraction else "") + " +0000 UTC"


def _check_items(items: Sequence[Mapping[str, Any]]) -> list[int]:
    """The checks the schema cannot state: sizes, uint256 range and unique token ids."""
    sizes = compact_sizes(items, item_limit=MAX_ITEM_BYTES, list_limit=MAX_LIST_BYTES)
    total = sum(sizes) + len(sizes) + 1 if sizes else 2  # the compact list: brackets and commas around its items
    if total > MAX_LIST_BYTES:
        raise ApiError(400, f"nft_metadata is {total} bytes of JSON; the limit is 228 KiB ({MAX_LIST_BYTES}).",
                       field="nft_metadata")
    seen: dict[int, int] = {}
    token_ids = []
    for index, (item, size) in enumerate(zip(items, sizes, strict=True)):
        if size > MAX_ITEM_BYTES:
            raise ApiError(400, f"nft_metadata[{index}] is {size} bytes of JSON; the limit is 16 KiB "
                                f"({MAX_ITEM_BYTES}).", field=f"nft_metadata.{index}")
        token_id = _uint256(item["token_id"], "nft_metadata.{}.token_id", index)
        if token_id in seen:
            raise ApiError(400, f"token_id {item['token_id']} appears twice, in nft_metadata[{seen[token_id]}] "
                                f"and nft_metadata[{index}].", field=f"nft_metadata.{index}.token_id")
        seen[token_id] = index
        token_ids.append(token_id)
    return token_ids


def _page(listed: Sequence[Any], page_cursor: str | None, page_size: int) -> dict[str, Any]:
    """One page of a listing with Immutable's cursors."""
    offset = _decode_cursor(page_cursor) if page_cursor else 0
    has_next = offset + page_size < len(listed)
    return {
        "result": listed[offset : offset + page_size],
        "page": {
            "previous_cursor": _encode_cursor(max(0, offset - page_size), "prev") if offset > 0 else None,
            "next_cursor": _encode_cursor(offset + page_size, "next") if has_next else None,
        },
    }


def _check_stacked_items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """The checks the schema cannot state for a stacked refresh: sizes, UUIDs and unique ids (lower case)."""
    if len(items) > MAX_STACKED_ITEMS:  # the schema's maxItems, for a body that bypassed it
        raise ApiError(400, f"metadata has {len(items)} items; at most {MAX_STACKED_ITEMS} are allowed.",
                       field="metadata")
    sizes = compact_sizes(items, item_limit=MAX_ITEM_BYTES, list_limit=MAX_LIST_BYTES)
    total = sum(sizes) + len(sizes) + 1 if sizes else 2
    if total > MAX_LIST_BYTES:
        raise ApiError(400, f"metadata is {total} bytes of JSON; the limit is 228 KiB ({MAX_LIST_BYTES}).",
                       field="metadata")
    seen: dict[str, int] = {}
    for index, (item, size) in enumerate(zip(items, sizes, strict=True)):
        if size > MAX_ITEM_BYTES:
            raise ApiError(400, f"metadata[{index}] is {size} bytes of JSON; the limit is 16 KiB ({MAX_ITEM_BYTES}).",
                           field=f"metadata.{index}")
        metadata_id = _uuid(item["metadata_id"], f"metadata.{index}.metadata_id")
        if metadata_id in seen:
            raise ApiError(400, f"metadata_id {item['metadata_id']} appears twice, in metadata[{seen[metadata_id]}] "
                                f"and metadata[{index}].", field=f"metadata.{index}.metadata_id")
        seen[metadata_id] = index
    return list(seen)


def _uuid(text: str, field: str) -> str:
    if not UUID.match(text):
        raise ApiError(400, f"{field} must be a UUID (8-4-4-4-12 hexadecimal digits); got {text!r}.", field=field)
    return text.lower()


def _uint256(text: str, field: str, *at: int) -> int:
    """`text` as a uint256, or a 400 naming `field` (a template filled with `at`: made only for the error, since a
    250-item refresh checks 250 ids)."""
    if not (text.isascii() and text.isdigit()) or (len(text) > 1 and text[0] == "0"):
        field = field.format(*at)
        raise ApiError(400, f"{field} must be a uint256 in decimal without leading zeros; got {text!r}.", field=field)
    value = int(text)
    if value >= UINT256_LIMIT:
        field = field.format(*at)
        raise ApiError(400, f"{field} must be below 2^256; got {text}.", field=field)
    return value


def _metadata_of(item: dict[str, Any]) -> dict[str, Any]:
    """The NFT fields a refresh sets, taken over from a request's item (changed in place: the request parsed it
    for this call alone, and copying 250 items cost a tenth of a large refresh); a missing or null attribute
    list reads back as an empty one, as NFTs have no null list."""
    if item.keys() <= _REFRESHABLE_OR_ID:  # the usual item: itself less its token id, in the item's key order
        metadata = item
        metadata.pop("token_id", None)
    else:
        metadata = {name: value for name, value in item.items() if name in _REFRESHABLE}
    attributes = metadata.get("attributes") or []
    # A null display_type is accepted but not kept: NFTs read back without it (Immutable's SDK types the
    # read as optional, never null).
    for attribute in attributes:
        if "display_type" in attribute and attribute["display_type"] is None:
            del attribute["display_type"]
    metadata["attributes"] = attributes
    return metadata


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{text!r} is not an RFC 3339 date-time.", field="from_updated_at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode_cursor(offset: int, direction: str) -> str:
    """A cursor in Immutable's own form (base64 of `{"type": ..., "item": {"id": ...}}`), `id` being an offset."""
    return base64.b64encode(json.dumps({"type": direction, "item": {"id": offset}}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        offset = json.loads(base64.b64decode(cursor.encode(), validate=True))["item"]["id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "page_cursor is not a cursor this API returned.", field="page_cursor") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError(400, "page_cursor is not a cursor this API returned.", field="page_cursor")
    return offset
