"""The store in Redis: one state shared by every worker process and host that names the same URL and prefix.

Every key lives under the prefix (`mockserver:` by default), and there is a fixed set of them, so a reset can
replace all of them in one MULTI/EXEC and a reader never sees a half-loaded state:

| key | type | holds |
|---|---|---|
| `fixtures`, `generation` | string | the fixtures as JSON (what a reset goes back to); a new id per load |
| `rair:users`, `rair:contracts` | hash | credentials and contracts, JSON by credential / `[network, address]` |
| `rair:tokens` | hash | token records, JSON by `[network, address, product, token]` |
| `imx:chains`, `imx:keys`, `imx:collections` | hash | chains, API keys and collections, JSON |
| `imx:nfts` | hash | NFT records, JSON by `[chain, address, token_id]` |
| `imx:pending`, `imx:seq` | sorted set, counter | queued refreshes scored by due time; their order of arrival |
| `tkn:bearers` | set | Tokenization bearer tokens |
| `tkn:tokens`, `tkn:attachments` | hash | token records by id; the blob key of each attachment |
| `blobs` | hash | uploaded files by SHA-256: the media type, a NUL byte, the bytes |

Updates read, change and write a record inside WATCH/MULTI/EXEC and start again if another process wrote the
record's key meanwhile, so concurrent updates from different processes are all applied. Due refreshes are
applied the same way, by whichever reader first finds them due.

While Redis does not answer, every method raises `StoreUnavailable` (each API answers 503 with `Retry-After`),
after a short retry that rides out a blip without holding a request for seconds. When Redis comes back empty
(restarted without persistence), `ensure_loaded`, run before each request, loads the fixtures again.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.client import Pipeline
from redis.retry import Retry

from mockserver.errors import ConfigError, StoreUnavailable
from mockserver.files import Blob, digest
from mockserver.fixtures import (
    Attachment,
    Fixtures,
    ImmutableCollection,
    ImmutableKey,
    RairContract,
    RairUser,
)
from mockserver.settings import redact_url
from mockserver.store import (
    NftKey,
    PendingRefresh,
    RairKey,
    Store,
    TokenChange,
    apply_refresh,
    merge_rair_metadata,
    rair_key,
)

T = TypeVar("T")
DEFAULT_PREFIX = "mockserver:"
logger = logging.getLogger("mockserver")
# redis-py's default retries for seconds (10 times, backoff up to 1 s) before failing: a request would hang
# that long while Redis is down. Two quick retries ride out a dropped connection, then the client hears 503.
# A timeout is not retried: a Redis that stops answering (paused, overloaded, cut off by a firewall) would
# otherwise hold each request for three timeouts instead of one.
RETRY = Retry(ExponentialBackoff(cap=0.05, base=0.01), 2, supported_errors=(redis.ConnectionError,))
# Every Redis call blocks the event loop, so while Redis stops answering nothing else (health, the page, other
# requests) is served either: one second is long next to Redis's sub-millisecond answers, short for a stalled
# server. The URL may say otherwise (`?socket_timeout=5&socket_connect_timeout=5`): redis-py lets the URL's
# query override these.
SOCKET_TIMEOUT = 1.0
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
# The dunder methods through which the mapping and blob store reach Redis.
_REDIS_DUNDERS = frozenset({"__getitem__", "__iter__", "__len__", "__contains__", "__repr__"})


def _unavailable_as_store_error(cls: type[T]) -> type[T]:
    """Every public method and property of `cls` raises `StoreUnavailable` instead of redis-py's connection
    errors, so the web layer (which never imports redis) can answer 503 for all of them in one place."""

    def translated(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except UNREACHABLE as exc:
                raise StoreUnavailable(f"Redis does not answer: {exc}") from exc

        return wrapper

    for name, member in list(vars(cls).items()):
        if name.startswith("_") and name not in _REDIS_DUNDERS:
            continue
        if isinstance(member, property) and member.fget is not None:
            setattr(cls, name, property(translated(member.fget), doc=member.__doc__))
        elif callable(member):
            setattr(cls, name, translated(member))
    return cls


class _Keys:
    """The Redis key names of one namespace."""

    def __init__(self, prefix: str) -> None:
        self.fixtures = f"{prefix}fixtures"
        self.generation = f"{prefix}generation"
        self.rair_users = f"{prefix}rair:users"
        self.rair_contracts = f"{prefix}rair:contracts"
        self.rair_tokens = f"{prefix}rair:tokens"
        self.chains = f"{prefix}imx:chains"
        self.imx_keys = f"{prefix}imx:keys"
        self.collections = f"{prefix}imx:collections"
        self.nfts = f"{prefix}imx:nfts"
        self.pending = f"{prefix}imx:pending"
        self.seq = f"{prefix}imx:seq"
        self.bearers = f"{prefix}tkn:bearers"
        self.tokens = f"{prefix}tkn:tokens"
        self.attachments = f"{prefix}tkn:attachments"
        self.blobs = f"{prefix}blobs"

    def all(self) -> list[str]:
        return list(vars(self).values())


@_unavailable_as_store_error
class RedisStore(Store):
    """All records of the three APIs plus uploaded files, in Redis under a key prefix."""

    def __init__(self, fixtures: Fixtures, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        try:
            self._redis = redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT,
                                               socket_timeout=SOCKET_TIMEOUT, retry=RETRY)
        except ValueError as exc:  # a query value redis-py cannot parse (`?db=x`)
            raise ConfigError(f"store {redact_url(url)!r} is not usable: {exc}") from exc
        self._keys = _Keys(prefix)
        self.blobs = RedisBlobStore(self._redis, self._keys.blobs)
        self._attachments = _RedisHash(self._redis, self._keys.attachments)
        self._own_fixtures = fixtures
        self._cached: tuple[bytes, Fixtures] | None = None
        self._products: tuple[Fixtures, frozenset[tuple[str, str, int]]] | None = None
        try:
            # A namespace another worker (or an earlier run) filled keeps its state.
            self._write(fixtures, only_if_empty=True)
        except (redis.RedisError, TypeError) as exc:
            # TypeError: redis-py hands a URL's unknown query parameters (`?foo=bar`) to its connection class,
            # which refuses them only when the first connection is made, here.
            raise ConfigError(f"store {redact_url(url)!r} is not usable: {exc}") from exc

    @property
    def fixtures(self) -> Fixtures:
        generation = self._redis.get(self._keys.generation)
        if generation is None:  # the namespace was emptied behind our back
            return self._own_fixtures
        if self._cached is None or self._cached[0] != generation:
            generation, document = self._redis.mget([self._keys.generation, self._keys.fixtures])
            if generation is None or document is None:
                return self._own_fixtures
            self._cached = (_bytes(generation), fixtures_from_json(document))
        return self._cached[1]

    @property
    def attachment_blobs(self) -> Mapping[str, str]:
        return self._attachments

    def load(self, fixtures: Fixtures) -> None:
        self._write(fixtures, only_if_empty=False)

    def ensure_loaded(self) -> None:
        # One EXISTS per request, beside the several round trips each API request makes anyway. Checking only
        # when a connection is re-established would answer the first requests after a restart from an empty
        # namespace (the reconnect happens inside them), which is the 401/404 this check exists to prevent.
        if self._redis.exists(self._keys.fixtures):
            return
        # The fixtures last seen here (possibly loaded by another worker through the admin API), else our own.
        fixtures = self._cached[1] if self._cached is not None else self._own_fixtures
        if self._write(fixtures, only_if_empty=True):
            logger.warning("store %s under %r was empty (Redis restarted without persistence?): fixtures loaded "
                           "again", redact_url(self.url), self.prefix)

    def namespace_keys(self) -> list[str]:
        """Every key this store writes (all under its prefix)."""
        return self._keys.all()

    def _write(self, fixtures: Fixtures, *, only_if_empty: bool) -> bool:
        k = self._keys

        def write(pipe: Pipeline) -> bool:
            if only_if_empty and pipe.exists(k.fixtures):
                return False
            pipe.multi()
            pipe.delete(*k.all())
            pipe.set(k.fixtures, fixtures_to_json(fixtures))
            pipe.set(k.generation, uuid.uuid4().hex)
            _hset(pipe, k.rair_users, {u.credential: _dump(dataclasses.asdict(u)) for u in fixtures.rair_users})
            _hset(pipe, k.rair_contracts, {_field((c.network, c.address)): _dump(dataclasses.asdict(c))
                                           for c in fixtures.rair_contracts})
            _hset(pipe, k.rair_tokens, {_field(key): _dump(t) for key, t in fixtures.rair_tokens.items()})
            _hset(pipe, k.chains, {name: _dump(chain) for name, chain in fixtures.immutable_chains.items()})
            _hset(pipe, k.imx_keys, {key.key: _dump(_key_json(key)) for key in fixtures.immutable_keys})
            _hset(pipe, k.collections, {_field((c.chain, c.address)): _dump(dataclasses.asdict(c))
                                        for c in fixtures.immutable_collections})
            _hset(pipe, k.nfts, {_field(key): _dump(nft) for key, nft in fixtures.immutable_nfts.items()})
            if fixtures.tokenization_bearers:
                pipe.sadd(k.bearers, *fixtures.tokenization_bearers)
            _hset(pipe, k.tokens, {token_id: _dump(t) for token_id, t in fixtures.tokenization_tokens.items()})
            blobs = {digest(a.data): _blob_value(a.content_type, a.data) for a in fixtures.tokenization_attachments}
            _hset(pipe, k.blobs, blobs)
            _hset(pipe, k.attachments, {a.id: digest(a.data) for a in fixtures.tokenization_attachments})
            return True

        return self._atomic(write, k.fixtures)

    def _atomic(self, func: Callable[[Pipeline], T], *watches: str) -> T:
        """Run `func` (reads, then `pipe.multi()` and writes) until no watched key changed before it was applied."""
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*watches)  # type: ignore[no-untyped-call]
                    result = func(pipe)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def _get(self, key: str, field: str) -> Any:
        raw = self._redis.hget(key, field)
        return json.loads(raw) if raw is not None else None

    def _in_fixture_order(self, key: str, fields: list[str]) -> list[dict[str, Any]]:
        if not fields:
            return []
        return [json.loads(raw) for raw in self._redis.hmget(key, fields) if raw is not None]

    # RAIR

    def rair_user(self, credential: str) -> RairUser | None:
        found = self._get(self._keys.rair_users, credential)
        return RairUser(**found) if found is not None else None

    def rair_contract(self, network: str, address: str) -> RairContract | None:
        found = self._get(self._keys.rair_contracts, _field((network.lower(), address.lower())))
        return RairContract(**found) if found is not None else None

    def rair_has_product(self, network: str, address: str, product: int) -> bool:
        # The RAIR tokens are those of the shared fixtures (updates never add one), so their products come from
        # the fixtures document, computed once per generation, instead of every hash field on every request.
        fixtures = self.fixtures
        if self._products is None or self._products[0] is not fixtures:
            self._products = (fixtures, frozenset(rair_key(key)[:3] for key in fixtures.rair_tokens))
        return (network.lower(), address.lower(), product) in self._products[1]

    def rair_token(self, key: RairKey) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._get(self._keys.rair_tokens, _field(rair_key(key)))
        return found

    def update_rair_token(self, key: RairKey, metadata: Mapping[str, Any]) -> dict[str, Any]:
        def merge(token: dict[str, Any]) -> None:
            merge_rair_metadata(token, metadata)

        updated = self._update(self._keys.rair_tokens, _field(rair_key(key)), merge)
        if updated is None:
            raise KeyError(key)
        return updated

    def rair_tokens(self) -> list[dict[str, Any]]:
        return self._in_fixture_order(self._keys.rair_tokens, [_field(k) for k in self.fixtures.rair_tokens])

    def _update(self, key: str, field: str, change: Callable[[dict[str, Any]], Mapping[str, str] | None],
                added_to: str | None = None) -> dict[str, Any] | None:
        """Change one JSON record of a hash atomically; what `change` returns is added to the hash `added_to`."""

        def update(pipe: Pipeline) -> dict[str, Any] | None:
            raw = pipe.hget(key, field)
            if raw is None:
                return None
            record: dict[str, Any] = json.loads(raw)
            added = change(record)
            pipe.multi()
            pipe.hset(key, field, _dump(record))
            if added_to is not None and added:
                _hset(pipe, added_to, added)
            return record

        return self._atomic(update, key)

    # Immutable

    def immutable_key(self, key: str) -> ImmutableKey | None:
        found = self._get(self._keys.imx_keys, key)
        if found is None:
            return None
        return ImmutableKey(key=found["key"], project=found["project"], scopes=frozenset(found["scopes"]))

    def chain(self, name: str) -> dict[str, str] | None:
        found: dict[str, str] | None = self._get(self._keys.chains, name)
        return found

    def collection(self, chain: str, address: str) -> ImmutableCollection | None:
        found = self._get(self._keys.collections, _field((chain, address.lower())))
        return ImmutableCollection(**found) if found is not None else None

    def schedule_refresh(self, refreshes: Iterable[PendingRefresh]) -> None:
        queued = list(refreshes)
        if not queued:
            return
        # Members are unique and sort in order of arrival among refreshes due at the same time.
        first = int(self._redis.incrby(self._keys.seq, len(queued))) - len(queued)
        self._redis.zadd(self._keys.pending, {
            f"{first + n:020d} {_dump(_refresh_json(refresh))}": refresh.due for n, refresh in enumerate(queued)
        })

    def nft(self, chain: str, address: str, token_id: int, *, now: float) -> dict[str, Any] | None:
        self._apply_due(now)
        found: dict[str, Any] | None = self._get(self._keys.nfts, _field((chain, address.lower(), token_id)))
        return found

    def nfts(self, chain: str, address: str, *, now: float) -> list[dict[str, Any]]:
        collection = [chain, address.lower()]
        return [nft for key, nft in self._sorted_nfts(now) if list(key[:2]) == collection]

    def all_nfts(self, *, now: float) -> list[dict[str, Any]]:
        return [nft for _, nft in self._sorted_nfts(now)]

    def _sorted_nfts(self, now: float) -> list[tuple[NftKey, dict[str, Any]]]:
        self._apply_due(now)
        records = self._redis.hgetall(self._keys.nfts)
        keyed = [(_nft_key(field), json.loads(raw)) for field, raw in records.items()]
        return sorted(keyed, key=lambda item: item[0])

    def pending_refreshes(self) -> int:
        return int(self._redis.zcard(self._keys.pending))

    def _apply_due(self, now: float) -> None:
        k = self._keys
        if not self._redis.zcount(k.pending, "-inf", now):
            return

        def apply(pipe: Pipeline) -> None:
            members: list[bytes] = pipe.zrangebyscore(k.pending, "-inf", now)  # type: ignore[assignment]
            if not members:
                return
            # Sorted by due time, then order of arrival (the sequence number that starts each member).
            due = [_refresh_from(member) for member in members]
            fields = sorted({_field(refresh.key) for refresh in due})
            nfts = {f: json.loads(raw) if raw is not None else None
                    for f, raw in zip(fields, pipe.hmget(k.nfts, fields), strict=True)}
            for refresh in due:
                chain_name, address, _ = refresh.key
                chain = json.loads(_required(pipe.hget(k.chains, chain_name)))
                collection = ImmutableCollection(**json.loads(_required(
                    pipe.hget(k.collections, _field((chain_name, address))))))
                field = _field(refresh.key)
                nfts[field] = apply_refresh(nfts[field], refresh, chain, collection)
            pipe.multi()
            pipe.zrem(k.pending, *members)
            _hset(pipe, k.nfts, {f: _dump(nft) for f, nft in nfts.items() if nft is not None})

        self._atomic(apply, k.pending, k.nfts)

    # Tokenization

    def bearer_known(self, token: str) -> bool:
        return bool(self._redis.sismember(self._keys.bearers, token))

    def tokenization_token(self, token_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._get(self._keys.tokens, token_id.lower())
        return found

    def update_tokenization_token(self, token_id: str, change: TokenChange) -> dict[str, Any] | None:
        return self._update(self._keys.tokens, token_id.lower(), change, added_to=self._keys.attachments)

    def replace_tokenization_token(self, token_id: str, token: Mapping[str, Any], blobs: Mapping[str, str]) -> None:
        with self._redis.pipeline() as pipe:
            pipe.hset(self._keys.tokens, token_id.lower(), _dump(dict(token)))
            _hset(pipe, self._keys.attachments, blobs)
            pipe.execute()

    def tokenization_tokens(self) -> list[dict[str, Any]]:
        return self._in_fixture_order(self._keys.tokens, list(self.fixtures.tokenization_tokens))

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        k = self._keys
        counts = [int(self._redis.hlen(key)) for key in (k.rair_tokens, k.nfts, k.tokens)]
        return (f"RedisStore(url={redact_url(self.url)!r}, prefix={self.prefix!r}, rair_tokens={counts[0]}, "
                f"nfts={counts[1]}, tokenization_tokens={counts[2]}, blobs={len(self.blobs)})")


@_unavailable_as_store_error
class RedisBlobStore:
    """Files by SHA-256 of their content in one Redis hash; storing the same bytes twice keeps one copy."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._redis = client
        self._key = key

    def put(self, data: bytes, content_type: str) -> str:
        key = digest(data)
        self._redis.hsetnx(self._key, key, _blob_value(content_type, data))
        return key

    def get(self, key: str) -> Blob | None:
        raw = self._redis.hget(self._key, key)
        if raw is None:
            return None
        content_type, _, data = _bytes(raw).partition(b"\0")
        return Blob(content_type.decode(), data)

    def clear(self) -> None:
        self._redis.delete(self._key)

    def __len__(self) -> int:
        return int(self._redis.hlen(self._key))


@_unavailable_as_store_error
class _RedisHash(Mapping[str, str]):
    """A Redis hash of text values, read as a mapping."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._redis = client
        self._key = key

    def __getitem__(self, field: str) -> str:
        raw = self._redis.hget(self._key, field)
        if raw is None:
            raise KeyError(field)
        return _bytes(raw).decode()

    def __iter__(self) -> Iterator[str]:
        return iter(_bytes(field).decode() for field in self._redis.hkeys(self._key))

    def __len__(self) -> int:
        return int(self._redis.hlen(self._key))

    def __contains__(self, field: object) -> bool:
        return isinstance(field, str) and bool(self._redis.hexists(self._key, field))


# Encoding


def fixtures_to_json(fixtures: Fixtures) -> str:
    """Fixtures as JSON (tuple keys as lists, bytes in base64), for `fixtures_from_json`."""
    return _dump({
        "rair_users": [dataclasses.asdict(u) for u in fixtures.rair_users],
        "rair_contracts": [dataclasses.asdict(c) for c in fixtures.rair_contracts],
        "rair_tokens": [[list(key), token] for key, token in fixtures.rair_tokens.items()],
        "immutable_chains": fixtures.immutable_chains,
        "immutable_keys": [_key_json(key) for key in fixtures.immutable_keys],
        "immutable_collections": [dataclasses.asdict(c) for c in fixtures.immutable_collections],
        "immutable_nfts": [[list(key), nft] for key, nft in fixtures.immutable_nfts.items()],
        "tokenization_bearers": fixtures.tokenization_bearers,
        "tokenization_tokens": fixtures.tokenization_tokens,
        "tokenization_attachments": [
            {"id": a.id, "name": a.name, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
            for a in fixtures.tokenization_attachments
        ],
    })


def fixtures_from_json(document: str | bytes) -> Fixtures:
    raw = json.loads(document)
    return Fixtures(
        rair_users=[RairUser(**u) for u in raw["rair_users"]],
        rair_contracts=[RairContract(**c) for c in raw["rair_contracts"]],
        rair_tokens={(k[0], k[1], k[2], k[3]): token for k, token in raw["rair_tokens"]},
        immutable_chains=raw["immutable_chains"],
        immutable_keys=[ImmutableKey(key=k["key"], project=k["project"], scopes=frozenset(k["scopes"]))
                        for k in raw["immutable_keys"]],
        immutable_collections=[ImmutableCollection(**c) for c in raw["immutable_collections"]],
        immutable_nfts={(k[0], k[1], k[2]): nft for k, nft in raw["immutable_nfts"]},
        tokenization_bearers=raw["tokenization_bearers"],
        tokenization_tokens=raw["tokenization_tokens"],
        tokenization_attachments=[
            Attachment(id=a["id"], name=a["name"], content_type=a["content_type"], data=base64.b64decode(a["data"]))
            for a in raw["tokenization_attachments"]
        ],
    )


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _field(key: tuple[Any, ...]) -> str:
    """A record's hash field: its key tuple as compact JSON."""
    return _dump(list(key))


def _nft_key(field: bytes | str) -> NftKey:
    chain, address, token_id = json.loads(field)
    return chain, address, token_id


def _key_json(key: ImmutableKey) -> dict[str, Any]:
    return {"key": key.key, "project": key.project, "scopes": sorted(key.scopes)}


def _refresh_json(refresh: PendingRefresh) -> dict[str, Any]:
    return {"due": refresh.due, "key": list(refresh.key), "token_id": refresh.token_id,
            "metadata": copy.deepcopy(refresh.metadata)}


def _refresh_from(member: bytes) -> PendingRefresh:
    _, _, document = member.partition(b" ")
    raw = json.loads(document)
    chain, address, token_id = raw["key"]
    return PendingRefresh(raw["due"], (chain, address, token_id), raw["token_id"], raw["metadata"])


def _blob_value(content_type: str, data: bytes) -> bytes:
    return content_type.encode() + b"\0" + data


def _hset(pipe: Pipeline, key: str, mapping: Mapping[str, str | bytes]) -> None:
    if mapping:  # HSET refuses an empty mapping
        fields: dict[Any, Any] = dict(mapping)
        pipe.hset(key, mapping=fields)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _required(value: bytes | str | None) -> bytes | str:
    if value is None:  # pragma: no cover - a reset replaces records and queue in one transaction
        raise LookupError("a queued refresh names a chain or collection the store does not have")
    return value
