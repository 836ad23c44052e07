"""Fixtures: the credentials and resources a fresh store starts with, read from YAML and checked on load.

A fixtures file has one section per API (`rair`, `immutable`, `tokenization`); every section is optional.
Records are normalised here into the shapes the APIs return, so the store never sees raw YAML.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from mockserver.errors import FixturesError
from mockserver.files import SAMPLES

HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
NETWORK = re.compile(r"^0x[0-9a-fA-F]+$")
UINT256 = re.compile(r"^(0|[1-9][0-9]*)$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REFRESH_SCOPE = "refresh:metadata"
# libyaml's parser when PyYAML has it: the pure-Python one takes tens of seconds over 10,000 tokens.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoAliasLoader(_YAML_LOADER):  # type: ignore[valid-type,misc]
    """The YAML loader for fixtures, refusing aliases (`*name`) and merge keys (`<<: *name`).

    An alias stands for its anchor's whole value, so a few hundred bytes of nested aliases expand to megabytes
    in every read of the state (706 bytes made each GET 5.8 MB). libyaml composes the node graph in C, where an
    alias is simply the anchor's node again; the constructor, which is Python in both loaders, then meets that
    node a second time, and that is where it is refused.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "fixtures may not use YAML aliases (*name) or merge keys (<<): write each value out",
                node.start_mark)
        return super().construct_object(node, deep)


def read_yaml(document: str | bytes) -> Any:
    """A fixtures document as YAML, aliases refused (raises `yaml.YAMLError` saying what is wrong)."""
    return yaml.load(document, Loader=_NoAliasLoader)


_LEADING_COMMENTS = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*")
DEFAULT_CREATED = "2026-01-01T00:00:00.000000Z"
# The sections a fixtures document may have, one per API.
SECTIONS = ("rair", "immutable", "tokenization")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairUser:
    """A RAIR session credential and the wallet address it stands for."""

    credential: str
    address: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairContract:
    """A RAIR contract on a network and the address allowed to update its tokens."""

    network: str
    address: str
    owner: str
    id: str


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Attachment:
    """A file attached to a Tokenization token, with the bytes served at its URL."""

    id: str
    name: str
    content_type: str
    data: bytes


@dataclasses.dataclass(kw_only=True)
class Fixtures:
    """Everything a store is seeded with."""

    rair_users: list[RairUser] = dataclasses.field(default_factory=list)
    rair_contracts: list[RairContract] = dataclasses.field(default_factory=list)
    rair_tokens: dict[tuple[str, str, int, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    immutable_chains: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    immutable_keys: list[ImmutableKey] = dataclasses.field(default_factory=list)
    immutable_collections: list[ImmutableCollection] = dataclasses.field(default_factory=list)
    immutable_nfts: dict[tuple[str, str, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    # Stacked metadata by (chain, collection address, metadata id), shared by the NFTs whose metadata_id is its id.
    immutable_metadata: dict[tuple[str, str, str], dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokenization_bearers: list[str] = dataclasses.field(default_factory=list)
    tokenization_tokens: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokenization_attachments: list[Attachment] = dataclasses.field(default_factory=list)

    def copy(self) -> Fixtures:
        """A deep copy, so a store can mutate its records and still be reset to these.

        Records are plain data and the rest frozen, so only dicts and lists are copied: several times faster than
        `copy.deepcopy`, which was most of the time an app takes to build on 10,000 tokens.
        """
        return Fixtures(**{field.name: _copy_data(getattr(self, field.name)) for field in dataclasses.fields(self)})


def fixtures_to_json(fixtures: Fixtures) -> str:
    """Fixtures as JSON (tuple keys as lists, bytes in base64), for `fixtures_from_json`."""
    return _compact_json({
        "rair_users": [dataclasses.asdict(u) for u in fixtures.rair_users],
        "rair_contracts": [dataclasses.asdict(c) for c in fixtures.rair_contracts],
        "rair_tokens": [[list(key), token] for key, token in fixtures.rair_tokens.items()],
        "immutable_chains": fixtures.immutable_chains,
        "immutable_keys": [{"key": key.key, "project": key.project, "scopes": sorted(key.scopes)}
                           for key in fixtures.immutable_keys],
        "immutable_collections": [dataclasses.asdict(c) for c in fixtures.immutable_collections],
        "immutable_nfts": [[list(key), nft] for key, nft in fixtures.immutable_nfts.items()],
        "immutable_metadata": [[list(key), metadata] for key, metadata in fixtures.immutable_metadata.items()],
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
        immutable_metadata={(k[0], k[1], k[2]): metadata for k, metadata in raw.get("immutable_metadata", [])},
        tokenization_bearers=raw["tokenization_bearers"],
        tokenization_tokens=raw["tokenization_tokens"],
        tokenization_attachments=[
            Attachment(id=a["id"], name=a["name"], content_type=a["content_type"], data=base64.b64decode(a["data"]))
            for a in raw["tokenization_attachments"]
        ],
    )


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def default_fixtures_path() -> Path:
    """The fixtures file shipped with the package."""
    return Path(str(resources.files("mockserver") / "data" / "fixtures.yaml"))


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Read and check a fixtures file (the packaged default when `path` is None)."""
    source = Path(path) if path is not None else default_fixtures_path()
    try:
        raw = _read_document(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixturesError(f"cannot read fixtures file {source}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise FixturesError(f"fixtures file {source} is not valid YAML: {exc}") from exc
    return parse_fixtures(raw or {}, source=str(source))


def _read_document(text: str) -> Any:
    """A YAML document; one written as JSON (YAML's subset, as `mockserver fixtures` writes) is read as JSON,
    which is a hundred times faster than even libyaml for the same data."""
    match = _LEADING_COMMENTS.match(text)
    body = text[match.end() if match else 0 :]
    if body.startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            pass  # YAML flow style that is not JSON
    return read_yaml(text)


def parse_fixtures(raw: Any, *, source: str = "<fixtures>") -> Fixtures:
    """Check and normalise already-parsed fixtures data."""
    reader = _Reader(source)
    root = reader.mapping(raw, "")
    fixtures = Fixtures()
    _parse_rair(reader, reader.mapping(root.get("rair", {}), "rair"), fixtures)
    _parse_immutable(reader, reader.mapping(root.get("immutable", {}), "immutable"), fixtures)
    _parse_tokenization(reader, reader.mapping(root.get("tokenization", {}), "tokenization"), fixtures)
    unknown = set(root) - set(SECTIONS)
    if unknown:
        reader.fail("", f"unknown sections {', '.join(sorted(unknown))}")
    return fixtures


def object_id(*parts: object) -> str:
    """A stable 24-hex-digit id (the MongoDB ObjectId form both RAIR and Tokenization use)."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:24]


class _Reader:
    """Typed access to raw YAML that names the offending path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise FixturesError(f"{self.source}: {where or 'top level'}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping")
        return value

    def items(self, value: Any, where: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, "must be a list")
        return [self.mapping(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def text(self, node: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            self.fail(f"{where}.{key}", "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            self.fail(f"{where}.{key}", f"{value!r} does not match {pattern.pattern}")
        return value

    def integer(self, node: Mapping[str, Any], key: str, where: str) -> int:
        value = node.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(f"{where}.{key}", "must be a non-negative integer")
        return value

    def number(self, node: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float | None:
        value = node.get(key, default)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            self.fail(f"{where}.{key}", "must be a number")
        return value


def _parse_rair(reader: _Reader, section: dict[str, Any], fixtures: Fixtures) -> None:
    for i, user in enumerate(reader.items(section.get("users"), "rair.users")):
        where = f"rair.users[{i}]"
        fixtures.rair_users.append(
            RairUser(credential=reader.text(user, "credential", where), address=reader.text(user, "address", where))
        )
    for i, contract in enumerate(reader.items(section.get("contracts"), "rair.contracts")):
        where = f"rair.contracts[{i}]"
        network = reader.text(contract, "network", where, NETWORK).lower()
        address = reader.text(contract, "address", where, ADDRESS).lower()
        record = RairContract(network=network, address=address, owner=reader.text(contract, "owner", where),
                              id=object_id("rair-contract", network, address))
        fixtures.rair_contracts.append(record)
        for j, product in enumerate(reader.items(contract.get("products"), f"{where}.products")):
            pwhere = f"{where}.products[{j}]"
            product_index = reader.integer(product, "product", pwhere)
            for k, token in enumerate(reader.items(product.get("tokens"), f"{pwhere}.tokens")):
                twhere = f"{pwhere}.tokens[{k}]"
                index = reader.integer(token, "token", twhere)
                metadata = reader.mapping(token.get("metadata", {}), f"{twhere}.metadata")
                fixtures.rair_tokens[(network, address, product_index, index)] = {
                    "_id": object_id("rair-token", network, address, product_index, index),
                    "metadataURI": str(token.get("metadataURI", "none")),
                    "token": index,
                    "ownerAddress": str(token.get("ownerAddress", record.owner)),
                    "offerPool": reader.number(token, "offerPool", twhere, 0),
                    "offer": reader.number(token, "offer", twhere, 0),
                    "contract": record.id,
                    "uniqueIndexInContract": index,
                    "isMinted": bool(token.get("isMinted", True)),
                    "isURIStoredToBlockchain": bool(token.get("isURIStoredToBlockchain", True)),
                    "metadata": _copy_data(metadata),
                    "creationDate": str(token.get("creationDate", DEFAULT_CREATED)),
                    "authenticityLink": str(token.get("authenticityLink", "none")),
                }


def _parse_immutable(reader: _Reader, section: dict[str, Any], fixtures: Fixtures) -> None:
    for i, entry in enumerate(reader.items(section.get("chains"), "immutable.chains")):
        where = f"immutable.chains[{i}]"
        name = reader.text(entry, "name", where)
        fixtures.immutable_chains[name] = {"id": reader.text(entry, "id", where), "name": name}
    for i, project in enumerate(reader.items(section.get("projects"), "immutable.projects")):
        where = f"immutable.projects[{i}]"
        project_id = reader.text(project, "id", where)
        for j, key in enumerate(reader.items(project.get("api_keys"), f"{where}.api_keys")):
            scopes = key.get("scopes") or []
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                reader.fail(f"{where}.api_keys[{j}].scopes", "must be a list of strings")
            fixtures.immutable_keys.append(ImmutableKey(
                key=reader.text(key, "key", f"{where}.api_keys[{j}]"), project=project_id, scopes=frozenset(scopes)
            ))
    for i, collection in enumerate(reader.items(section.get("collections"), "immutable.collections")):
        where = f"immutable.collections[{i}]"
        chain = reader.text(collection, "chain", where)
        if chain not in fixtures.immutable_chains:
            reader.fail(f"{where}.chain", f"{chain!r} is not one of the chains listed")
        address = reader.text(collection, "address", where, ADDRESS).lower()
        contract_type = str(collection.get("contract_type", "ERC721"))
        if contract_type not in ("ERC721", "ERC1155"):
            reader.fail(f"{where}.contract_type", "must be ERC721 or ERC1155")
        fixtures.immutable_collections.append(ImmutableCollection(
            chain=chain, address=address, project=reader.text(collection, "project", where), contract_type=contract_type
        ))
        stacked = _parse_stacked_metadata(reader, collection, where, fixtures.immutable_chains[chain], address)
        fixtures.immutable_metadata.update(((chain, address, key), value) for key, value in stacked.items())
        for j, nft in enumerate(reader.items(collection.get("nfts"), f"{where}.nfts")):
            nwhere = f"{where}.nfts[{j}]"
            token_id = reader.text(nft, "token_id", nwhere, UINT256)
            indexed_at = str(nft.get("indexed_at", DEFAULT_CREATED))
            # An NFT carrying stacked metadata shows its values unless it names its own.
            shared = stacked.get(str(nft.get("metadata_id", "")).lower(), {})
            nft = {**{name: shared[name] for name in _METADATA_FIELDS if name in shared}, **nft}
            fixtures.immutable_nfts[(chain, address, int(token_id))] = {
                "chain": dict(fixtures.immutable_chains[chain]),
                "token_id": token_id,
                "contract_address": address,
                "contract_type": contract_type,
                "indexed_at": indexed_at,
                "updated_at": str(nft.get("updated_at", indexed_at)),
                "metadata_synced_at": nft.get("metadata_synced_at", indexed_at),
                "metadata_id": str(nft.get("metadata_id", _uuid_from(chain, address, token_id))),
                "name": nft.get("name"),
                "description": nft.get("description"),
                "image": nft.get("image"),
                "external_link": nft.get("external_url"),
                "external_url": nft.get("external_url"),
                "animation_url": nft.get("animation_url"),
                "youtube_url": nft.get("youtube_url"),
                "attributes": _copy_data(nft.get("attributes") or []),
                "total_supply": nft.get("total_supply", "1"),
            }


_METADATA_FIELDS = ("name", "description", "image", "external_url", "animation_url", "youtube_url", "attributes")


def _parse_stacked_metadata(reader: _Reader, collection: dict[str, Any], where: str, chain: dict[str, str],
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
            **{name: _copy_data(entry.get(name)) for name in _METADATA_FIELDS},
            "external_link": entry.get("external_url"),
        }
        stacked[metadata_id]["attributes"] = stacked[metadata_id]["attributes"] or []
    return stacked


def _parse_tokenization(reader: _Reader, section: dict[str, Any], fixtures: Fixtures) -> None:
    bearers = section.get("bearer_tokens") or []
    if not isinstance(bearers, list) or not all(isinstance(b, str) and b for b in bearers):
        reader.fail("tokenization.bearer_tokens", "must be a list of non-empty strings")
    fixtures.tokenization_bearers.extend(bearers)
    for i, token in enumerate(reader.items(section.get("tokens"), "tokenization.tokens")):
        where = f"tokenization.tokens[{i}]"
        token_id = reader.text(token, "id", where, HEX24).lower()
        oracle = reader.mapping(token.get("oracle") or {}, f"{where}.oracle")
        meta: dict[str, list[dict[str, Any]]] = {"images": [], "documents": []}
        for kind in ("images", "documents"):
            for j, item in enumerate(reader.items(token.get(kind), f"{where}.{kind}")):
                iwhere = f"{where}.{kind}[{j}]"
                name = reader.text(item, "name", iwhere)
                sample = str(item.get("sample", "png" if kind == "images" else "pdf"))
                if sample not in SAMPLES:
                    reader.fail(f"{iwhere}.sample", f"must be one of {', '.join(sorted(SAMPLES))}")
                content_type, data = SAMPLES[sample]
                attachment = Attachment(id=reader.text(item, "id", iwhere, HEX24).lower(), name=name,
                                        content_type=content_type, data=data)
                fixtures.tokenization_attachments.append(attachment)
                meta[kind].append({"id": attachment.id, "name": name, "content_type": content_type,
                                   "size": len(data)})
        created = str(token.get("created_at", DEFAULT_CREATED))
        fixtures.tokenization_tokens[token_id] = {
            "id": token_id,
            "name": reader.text(token, "name", where),
            "description": reader.text(token, "description", where),
            "currency_token_id": token.get("currency_token_id"),
            "salable_percentage": reader.number(token, "salable_percentage", where),
            "oracle": {"id": oracle.get("id"), "code": oracle.get("code")},
            "meta": meta,
            "value": {"total_value": reader.number(token, "total_value", where),
                      "token_price": reader.number(token, "token_price", where)},
            "supply": reader.number(token, "supply", where),
            "created_at": created,
            "updated_at": str(token.get("updated_at", created)),
        }


_SHARED = (str, int, float, bool, bytes, type(None), RairUser, RairContract, ImmutableKey, ImmutableCollection,
           Attachment)


def _copy_data(value: Any) -> Any:
    """A deep copy of fixtures data, sharing what cannot change (scalars, frozen records)."""
    if isinstance(value, dict):
        return {key: _copy_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_data(item) for item in value]
    return value if isinstance(value, _SHARED) else copy.deepcopy(value)  # a YAML date or set, say


def _uuid_from(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
