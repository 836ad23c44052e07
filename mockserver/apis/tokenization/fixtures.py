"""Tokenization's fixtures section (`tokenization:`): bearer tokens, and tokens with their attached files."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from typing import Any

from mockserver.files import SAMPLES
from mockserver.fixtures import DEFAULT_CREATED, HEX24, Fixtures, FixturesSection, Reader

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
    tokens: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    attachments: list[Attachment] = dataclasses.field(default_factory=list)


def parse(reader: Reader, section: dict[str, Any]) -> TokenizationFixtures:
    fixtures = TokenizationFixtures()
    bearers = section.get("bearer_tokens") or []
    if not isinstance(bearers, list) or not all(isinstance(b, str) and b for b in bearers):
        reader.fail("tokenization.bearer_tokens", "must be a list of non-empty strings")
    fixtures.bearers.extend(bearers)
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
                fixtures.attachments.append(attachment)
                meta[kind].append({"id": attachment.id, "name": name, "content_type": content_type,
                                   "size": len(data)})
        created = str(token.get("created_at", DEFAULT_CREATED))
        fixtures.tokens[token_id] = {
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
    return fixtures


def to_json(fixtures: TokenizationFixtures) -> dict[str, Any]:
    return {
        "tokenization_bearers": fixtures.bearers,
        "tokenization_tokens": fixtures.tokens,
        "tokenization_attachments": [
            {"id": a.id, "name": a.name, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
            for a in fixtures.attachments
        ],
    }


def from_json(raw: Mapping[str, Any]) -> TokenizationFixtures:
    return TokenizationFixtures(
        bearers=raw["tokenization_bearers"],
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
