"""Tokenization's fixtures section from recorded reads: each token `getToken` returned, and the currencies its value
objects name.

A read is in the shape of the vendor's "Get Token Details" page (`shapes.Token`); the fixtures take the amounts and
the currency id back to the top level, where a fixtures file gives them. The bytes of a token's images and
documents are not read: each file is a built-in sample (`mockserver.files.SAMPLES`), the one whose sha256 is the
file's `hash` when there is one, else a PNG for an image and a PDF for a document. An image's name is not in the
read (the fixtures need one), so it is named after its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.apis.base import RecordedRead
from mockserver.files import SAMPLES, digest

_SAMPLE_OF_HASH = {digest(data): name for name, (_, data) in SAMPLES.items()}
_TOKEN_FIELDS = ("id", "category_id", "node_id", "type", "status", "is_public", "name", "description", "token_name",
                 "token_symbol", "oracle", "contract", "created_at", "updated_at")
_CURRENCY_FIELDS = ("symbol", "decimal", "address")


def recorded_fixtures(reads: Sequence[RecordedRead]) -> dict[str, Any]:
    tokens: dict[str, dict[str, Any]] = {}
    currencies: dict[str, dict[str, Any]] = {}
    for read in reads:
        body = read.body
        if read.operation != "getToken" or not isinstance(body, dict) or "id" not in body:
            continue
        value: dict[str, Any] = body["value"] if isinstance(body.get("value"), dict) else {}
        total_value, token_price = _money(value.get("total_value")), _money(value.get("token_price"))
        for money in (total_value, token_price):
            # A currency the upstream knew; one it did not (its fields null) stays unlisted, and reads back null.
            if isinstance(money.get("id"), str) and all(money.get(field) is not None for field in _CURRENCY_FIELDS):
                currencies[money["id"]] = {"id": money["id"], **{field: money[field] for field in _CURRENCY_FIELDS}}
        meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
        tokens[body["id"]] = {
            **{field: body[field] for field in _TOKEN_FIELDS if body.get(field) is not None},
            "currency_token_id": total_value.get("id", token_price.get("id")),
            "total_value": total_value.get("amount"),
            "token_price": token_price.get("amount"),
            "salable_percentage": value.get("salable_percentage"),
            "images": [_image(item) for item in meta.get("images") or []],
            "documents": [_document(item) for item in meta.get("documents") or []],
        }
    if not tokens:
        return {}
    return {**({"currencies": list(currencies.values())} if currencies else {}), "tokens": list(tokens.values())}


def _money(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _image(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": f"image-{item['id']}", "sample": _sample(item, "png"),
            "is_default": bool(item.get("is_default")), **_created(item)}


def _document(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item["name"], "sample": _sample(item, "pdf"),
            **({"type": item["type"]} if item.get("type") is not None else {}), **_created(item)}


def _sample(item: dict[str, Any], default: str) -> str:
    return _SAMPLE_OF_HASH.get(str(item.get("hash")), default)


def _created(item: dict[str, Any]) -> dict[str, Any]:
    return {"created_at": item["created_at"]} if item.get("created_at") is not None else {}
