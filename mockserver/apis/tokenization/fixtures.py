"""Tokenization's fixtures section (`tokenization:`): bearer tokens, currencies, and tokens with their attached
files."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from typing import Any

from mockserver.files import SAMPLES, digest
from mockserver.fixtures import DEFAULT_CREATED, HEX24, Fixtures, FixturesSection, Reader, object_id

NAME = "tokenization"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Attachment:
    """A file attached to a Tokenization token, with the bytes served at its URL."""

    id: str
    name: str
    content_type: str
    data: bytes


@dataclasses.dataclass(kw_only=True)
class TokenizationFixtures:
    bearers: list[str] = dataclasses.field(default_factory=list)
    # The currencies tokens are valued in, by id: `{id, symbol, decimal, address}`.
    currencies: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    attachments: list[Attachment] = dataclasses.field(default_factory=list)


def parse(reader: Reader, section: dict[str, Any]) -> TokenizationFixtures:
    """Tokens in the shape of the vendor's "Get Token Details" page (`specs/tokenization.yaml`, TokenDetails).

    Files written for the shape before issue 12 still load: `currency_token_id`, `total_value`, `token_price` and
    `salable_percentage` at the top level are where they always were, and everything the vendor's page shows that
    they lack gets a default (a currency not listed under `currencies` leaves the value objects' symbol, decimal
    and address null).
    """
    fixtures = TokenizationFixtures()
    bearers = section.get("bearer_tokens") or []
    if not isinstance(bearers, list) or not all(isinstance(b, str) and b for b in bearers):
        reader.fail("tokenization.bearer_tokens", "must be a list of non-empty strings")
    fixtures.bearers.extend(bearers)
    for i, currency in enumerate(reader.items(section.get("currencies"), "tokenization.currencies")):
        where = f"tokenization.currencies[{i}]"
        listed_id = reader.text(currency, "id", where, HEX24).lower()
        fixtures.currencies[listed_id] = {
            "id": listed_id,
            "symbol": reader.text(currency, "symbol", where),
            "decimal": reader.integer(currency, "decimal", where),
            "address": reader.text(currency, "address", where),
        }
    for i, token in enumerate(reader.items(section.get("tokens"), "tokenization.tokens")):
        where = f"tokenization.tokens[{i}]"
        token_id = reader.text(token, "id", where, HEX24).lower()
        name = reader.text(token, "name", where)
        created = str(token.get("created_at", DEFAULT_CREATED))
        oracle = reader.mapping(token.get("oracle") or {}, f"{where}.oracle")
        contract = reader.mapping(token.get("contract") or {}, f"{where}.contract")
        meta: dict[str, list[dict[str, Any]]] = {"images": [], "documents": []}
        for kind in ("images", "documents"):
            for j, item in enumerate(reader.items(token.get(kind), f"{where}.{kind}")):
                iwhere = f"{where}.{kind}[{j}]"
                file_name = reader.text(item, "name", iwhere)
                sample = str(item.get("sample", "png" if kind == "images" else "pdf"))
                if sample not in SAMPLES:
                    reader.fail(f"{iwhere}.sample", f"must be one of {', '.join(sorted(SAMPLES))}")
                content_type, data = SAMPLES[sample]
                attachment = Attachment(id=reader.text(item, "id", iwhere, HEX24).lower(), name=file_name,
                                        content_type=content_type, data=data)
                fixtures.attachments.append(attachment)
                listed: dict[str, Any] = {"id": attachment.id}
                if kind == "images":
                    listed["is_default"] = bool(item.get("is_default", j == 0))
                else:
                    listed["name"] = file_name
                    listed["type"] = reader.integer(item, "type", iwhere) if "type" in item else 1
                listed.update(hash=digest(data), created_at=str(item.get("created_at", created)), deleted_at=None)
                meta[kind].append(listed)
        currency_id = (reader.text(token, "currency_token_id", where, HEX24).lower()
                       if token.get("currency_token_id") is not None else None)
        fixtures.tokens[token_id] = {
            "id": token_id,
            "category_id": reader.text(token, "category_id", where, HEX24).lower() if "category_id" in token
            else object_id("tokenization-category", token_id),
            "node_id": reader.text(token, "node_id", where, HEX24).lower() if "node_id" in token
            else object_id("tokenization-node", token_id),
            "type": reader.integer(token, "type", where) if "type" in token else 0,
            "status": reader.integer(token, "status", where) if "status" in token else 4,
            "is_public": bool(token.get("is_public", False)),
            "name": name,
            "description": reader.text(token, "description", where),
            "token_name": reader.text(token, "token_name", where) if "token_name" in token else name,
            "token_symbol": reader.text(token, "token_symbol", where) if "token_symbol" in token
            else "".join(word[0] for word in name.split() if word[0].isalnum()).upper(),
            "oracle": {"id": oracle.get("id"), "code": oracle.get("code")},
            "meta": meta,
            "contract": {"address": contract.get("address"), "tx_hash": contract.get("tx_hash")},
            "value": {
                "token_price": currency_value(fixtures.currencies, currency_id,
                                              reader.number(token, "token_price", where)),
                "total_value": currency_value(fixtures.currencies, currency_id,
                                              reader.number(token, "total_value", where)),
                "salable_percentage": reader.number(token, "salable_percentage", where),
            },
            "supply": reader.number(token, "supply", where),
            "created_at": created,
            "updated_at": str(token.get("updated_at", created)),
        }
    return fixtures


def currency_value(currencies: Mapping[str, Mapping[str, Any]], currency_id: str | None,
                   amount: float | None) -> dict[str, Any]:
    """A Tokenization value object `{id, amount, decimal, symbol, address}`: `amount` in the currency `currency_id`
    (the currency's own fields null when it is not among `currencies`)."""
    currency = currencies.get(currency_id or "", {})
    return {"id": currency_id, "amount": amount, "decimal": currency.get("decimal"),
            "symbol": currency.get("symbol"), "address": currency.get("address")}


def to_json(fixtures: TokenizationFixtures) -> dict[str, Any]:
    return {
        "tokenization_bearers": fixtures.bearers,
        "tokenization_currencies": fixtures.currencies,
        "tokenization_tokens": fixtures.tokens,
        "tokenization_attachments": [
            {"id": a.id, "name": a.name, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
            for a in fixtures.attachments
        ],
    }


def from_json(raw: Mapping[str, Any]) -> TokenizationFixtures:
    return TokenizationFixtures(
        bearers=raw["tokenization_bearers"],
        currencies=raw.get("tokenization_currencies", {}),
        tokens=raw["tokenization_tokens"],
        attachments=[
            Attachment(id=a["id"], name=a["name"], content_type=a["content_type"], data=base64.b64decode(a["data"]))
            for a in raw["tokenization_attachments"]
        ],
    )


def tokenization_fixtures(fixtures: Fixtures) -> TokenizationFixtures:
    """Tokenization's section of a `Fixtures`."""
    return fixtures.section(NAME, TokenizationFixtures)


SECTION = FixturesSection(type=TokenizationFixtures, parse=parse, to_json=to_json, from_json=from_json)
