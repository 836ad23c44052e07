"""Immutable's fixtures section (`immutable:`): chains, projects with their API keys, collections, their NFTs and
stacked metadata."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from mockserver.fixtures import (
    ADDRESS,
    DEFAULT_CREATED,
    UINT256,
    Fixtures,
    FixturesSection,
    Reader,
    copy_data,
    uuid_from,
)

NAME = "immutable"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# What an NFT and stacked metadata both carry, and an NFT carrying stacked metadata shows from it.
_METADATA_FIELDS = ("name", "description", "image", "external_url", "animation_url", "youtube_url", "attributes")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableKey:
    """An Immutable API key, the project it belongs to and its scopes."""

    key: str
    project: str
    scopes: frozenset[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableCollection:
    """An Immutable collection (contract) on a chain, owned by a project."""

    chain: str
    address: str
    project: str
    contract_type: str


@dataclasses.dataclass(kw_only=True)
class ImmutableFixtures:
    chains: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    keys: list[ImmutableKey] = dataclasses.field(default_factory=list)
    collections: list[ImmutableCollection] = dataclasses.field(default_factory=list)
    nfts: dict[tuple[str, str, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    # Stacked metadata by (chain, collection address, metadata id), shared by the NFTs whose metadata_id is its id.
    metadata: dict[tuple[str, str, str], dict[str, Any]] = dataclasses.field(default_factory=dict)


def parse(reader: Reader, section: dict[str, Any]) -> ImmutableFixtures:
    fixtures = ImmutableFixtures()
    for i, entry in enumerate(reader.items(section.get("chains"), "immutable.chains")):
        where = f"immutable.chains[{i}]"
        name = reader.text(entry, "name", where)
        fixtures.chains[name] = {"id": reader.text(entry, "id", where), "name": name}
    for i, project in enumerate(reader.items(section.get("projects"), "immutable.projects")):
        where = f"immutable.projects[{i}]"
        project_id = reader.text(project, "id", where)
        for j, key in enumerate(reader.items(project.get("api_keys"), f"{where}.api_keys")):
            scopes = key.get("scopes") or []
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                reader.fail(f"{where}.api_keys[{j}].scopes", "must be a list of strings")
            fixtures.keys.append(ImmutableKey(
                key=reader.text(key, "key", f"{where}.api_keys[{j}]"), project=project_id, scopes=frozenset(scopes)
            ))
    for i, collection in enumerate(reader.items(section.get("collections"), "immutable.collections")):
        where = f"immutable.collections[{i}]"
        chain = reader.text(collection, "chain", where)
        if chain not in fixtures.chains:
            reader.fail(f"{where}.chain", f"{chain!r} is not one of the chains listed")
        address = reader.text(collection, "address", where, ADDRESS).lower()
        contract_type = str(collection.get("contract_type", "ERC721"))
        if contract_type not in ("ERC721", "ERC1155"):
            reader.fail(f"{where}.contract_type", "must be ERC721 or ERC1155")
        fixtures.collections.append(ImmutableCollection(
            chain=chain, address=address, project=reader.text(collection, "project", where), contract_type=contract_type
        ))
        stacked = _parse_stacked_metadata(reader, collection, where, fixtures.chains[chain], address)
        fixtures.metadata.update(((chain, address, key), value) for key, value in stacked.items())
        for j, nft in enumerate(reader.items(collection.get("nfts"), f"{where}.nfts")):
            nwhere = f"{where}.nfts[{j}]"
            token_id = reader.text(nft, "token_id", nwhere, UINT256)
            indexed_at = str(nft.get("indexed_at", DEFAULT_CREATED))
            # An NFT carrying stacked metadata shows its values unless it names its own.
            shared = stacked.get(str(nft.get("metadata_id", "")).lower(), {})
            nft = {**{name: shared[name] for name in _METADATA_FIELDS if name in shared}, **nft}
            fixtures.nfts[(chain, address, int(token_id))] = {
                "chain": dict(fixtures.chains[chain]),
                "token_id": token_id,
                "contract_address": address,
                "contract_type": contract_type,
                "indexed_at": indexed_at,
                "updated_at": str(nft.get("updated_at", indexed_at)),
                "metadata_synced_at": nft.get("metadata_synced_at", indexed_at),
                "metadata_id": str(nft.get("metadata_id", uuid_from(chain, address, token_id))),
                "name": nft.get("name"),
                "description": nft.get("description"),
                "image": nft.get("image"),
                "external_link": nft.get("external_url"),
                "external_url": nft.get("external_url"),
                "animation_url": nft.get("animation_url"),
                "youtube_url": nft.get("youtube_url"),
                "attributes": copy_data(nft.get("attributes") or []),
                "total_supply": nft.get("total_supply", "1"),
            }
    return fixtures


def _parse_stacked_metadata(reader: Reader, collection: dict[str, Any], where: str, chain: dict[str, str],
                            address: str) -> dict[str, dict[str, Any]]:
    """A collection's stacked metadata (its `metadata` list) as `GetMetadata` returns it, by lower-case id."""
    stacked: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(reader.items(collection.get("metadata"), f"{where}.metadata")):
        mwhere = f"{where}.metadata[{i}]"
        metadata_id = reader.text(entry, "id", mwhere, UUID).lower()
        if metadata_id in stacked:
            reader.fail(f"{mwhere}.id", f"{metadata_id} is listed twice in this collection")
        created_at = str(entry.get("created_at", DEFAULT_CREATED))
        stacked[metadata_id] = {
            "id": metadata_id, "chain": dict(chain), "contract_address": address, "created_at": created_at,
            "updated_at": entry.get("updated_at"),
            **{name: copy_data(entry.get(name)) for name in _METADATA_FIELDS},
            "external_link": entry.get("external_url"),
        }
        stacked[metadata_id]["attributes"] = stacked[metadata_id]["attributes"] or []
    return stacked


def to_json(fixtures: ImmutableFixtures) -> dict[str, Any]:
    return {
        "immutable_chains": fixtures.chains,
        "immutable_keys": [{"key": key.key, "project": key.project, "scopes": sorted(key.scopes)}
                           for key in fixtures.keys],
        "immutable_collections": [dataclasses.asdict(c) for c in fixtures.collections],
        "immutable_nfts": [[list(key), nft] for key, nft in fixtures.nfts.items()],
        "immutable_metadata": [[list(key), metadata] for key, metadata in fixtures.metadata.items()],
    }


def from_json(raw: Mapping[str, Any]) -> ImmutableFixtures:
    return ImmutableFixtures(
        chains=raw["immutable_chains"],
        keys=[ImmutableKey(key=k["key"], project=k["project"], scopes=frozenset(k["scopes"]))
              for k in raw["immutable_keys"]],
        collections=[ImmutableCollection(**c) for c in raw["immutable_collections"]],
        nfts={(k[0], k[1], k[2]): nft for k, nft in raw["immutable_nfts"]},
        metadata={(k[0], k[1], k[2]): metadata for k, metadata in raw.get("immutable_metadata", [])},
    )


def immutable_fixtures(fixtures: Fixtures) -> ImmutableFixtures:
    """Immutable's section of a `Fixtures`."""
    return fixtures.section(NAME, ImmutableFixtures)


SECTION = FixturesSection(type=ImmutableFixtures, parse=parse, to_json=to_json, from_json=from_json)
