"""RAIR's fixtures section (`rair:`): session users, contracts and their products' tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mockserver.fixtures import (
    ADDRESS,
    DEFAULT_CREATED,
    NETWORK,
    Fixtures,
    FixturesSection,
    Reader,
    copy_data,
    object_id,
)

NAME = "rair"


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


@dataclasses.dataclass(kw_only=True)
class RairFixtures:
    users: list[RairUser] = dataclasses.field(default_factory=list)
    contracts: list[RairContract] = dataclasses.field(default_factory=list)
    tokens: dict[tuple[str, str, int, int], dict[str, Any]] = dataclasses.field(default_factory=dict)


def parse(reader: Reader, section: dict[str, Any]) -> RairFixtures:
    fixtures = RairFixtures()
    for i, user in enumerate(reader.items(section.get("users"), "rair.users")):
        where = f"rair.users[{i}]"
        fixtures.users.append(
            RairUser(credential=reader.text(user, "credential", where), address=reader.text(user, "address", where))
        )
    for i, contract in enumerate(reader.items(section.get("contracts"), "rair.contracts")):
        where = f"rair.contracts[{i}]"
        network = reader.text(contract, "network", where, NETWORK).lower()
        address = reader.text(contract, "address", where, ADDRESS).lower()
        record = RairContract(network=network, address=address, owner=reader.text(contract, "owner", where),
                              id=object_id("rair-contract", network, address))
        fixtures.contracts.append(record)
        for j, product in enumerate(reader.items(contract.get("products"), f"{where}.products")):
            pwhere = f"{where}.products[{j}]"
            product_index = reader.integer(product, "product", pwhere)
            for k, token in enumerate(reader.items(product.get("tokens"), f"{pwhere}.tokens")):
                twhere = f"{pwhere}.tokens[{k}]"
                index = reader.integer(token, "token", twhere)
                metadata = reader.mapping(token.get("metadata", {}), f"{twhere}.metadata")
                fixtures.tokens[(network, address, product_index, index)] = {
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
                    "metadata": copy_data(metadata),
                    "creationDate": str(token.get("creationDate", DEFAULT_CREATED)),
                    "authenticityLink": str(token.get("authenticityLink", "none")),
                }
    return fixtures


def to_json(fixtures: RairFixtures) -> dict[str, Any]:
    return {
        "rair_users": [dataclasses.asdict(u) for u in fixtures.users],
        "rair_contracts": [dataclasses.asdict(c) for c in fixtures.contracts],
        "rair_tokens": [[list(key), token] for key, token in fixtures.tokens.items()],
    }


def from_json(raw: Mapping[str, Any]) -> RairFixtures:
    return RairFixtures(
        users=[RairUser(**u) for u in raw["rair_users"]],
        contracts=[RairContract(**c) for c in raw["rair_contracts"]],
        tokens={(k[0], k[1], k[2], k[3]): token for k, token in raw["rair_tokens"]},
    )


def rair_fixtures(fixtures: Fixtures) -> RairFixtures:
    """RAIR's section of a `Fixtures`."""
    return fixtures.section(NAME, RairFixtures)


SECTION = FixturesSection(type=RairFixtures, parse=parse, to_json=to_json, from_json=from_json)
