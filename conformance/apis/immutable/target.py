"""Immutable's section of the target file: the project's keys and a collection of that project."""

from __future__ import annotations

import dataclasses
import re

from conformance.errors import TargetError
from conformance.target_base import ADDRESS, Section, Target

NAME = "immutable"
_UINT = re.compile(r"^(0|[1-9][0-9]*)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Collection:
    """An Immutable collection: a chain name and a contract address on it."""

    chain: str
    address: str

    @property
    def base(self) -> str:
        return f"/v1/chains/{self.chain}/collections/{self.address}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableTarget:
    """Immutable keys (refresh scope, read-only, another project's) and a collection of the first key."""

    api_key: str = dataclasses.field(repr=False)
    readonly_api_key: str | None = dataclasses.field(repr=False, default=None)
    foreign_api_key: str | None = dataclasses.field(repr=False, default=None)
    collection: Collection
    foreign_collection: Collection | None = None
    token_ids: tuple[str, ...]
    # How long a refresh may take to show in GET NFT (the real service applies refreshes asynchronously).
    refresh_timeout: float = 10.0
    # Stacked metadata of `collection` (UUIDs), which RefreshMetadataByID refreshes for every NFT carrying it.
    metadata_ids: tuple[str, ...] = ()


def _collection(s: Section) -> Collection:
    result = Collection(chain=s.string("chain"), address=s.string("address", pattern=ADDRESS))
    s.done()
    return result


def read_section(s: Section) -> ImmutableTarget:
    token_ids = tuple(str(t) for t in s.items("token_ids"))
    bad = [t for t in token_ids if not _UINT.match(t)]
    if not token_ids or bad:
        raise TargetError(
            f"{s.source}: immutable.token_ids must list decimal token ids of the collection"
            + (f"; not decimal: {', '.join(bad)}" if bad else "")
        )
    foreign = s.optional_section("foreign_collection")
    result = ImmutableTarget(
        api_key=s.string("api_key"),
        readonly_api_key=s.optional_string("readonly_api_key"),
        foreign_api_key=s.optional_string("foreign_api_key"),
        collection=_collection(s.section("collection")),
        foreign_collection=_collection(foreign) if foreign is not None else None,
        token_ids=token_ids,
        refresh_timeout=s.number("refresh_timeout", 10.0, minimum=0),
        metadata_ids=_metadata_ids(s),
    )
    s.done()
    return result


def _metadata_ids(s: Section) -> tuple[str, ...]:
    metadata_ids = tuple(str(m).lower() for m in s.items("metadata_ids", required=False))
    bad = [m for m in metadata_ids if not _UUID.match(m)]
    if bad:
        raise TargetError(f"{s.source}: immutable.metadata_ids holds ids that are not UUIDs: {', '.join(bad)}")
    return metadata_ids


def immutable_of(target: Target) -> ImmutableTarget:
    return target.section(NAME, ImmutableTarget)
