"""Tokenization's fixtures section from recorded reads: each token `getToken` returned.

The bytes of a token's images and documents are not read: each attachment is the built-in sample of its media
type (`mockserver.files.SAMPLES`), so its size and URL are the sample's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.apis.base import RecordedRead
from mockserver.files import SAMPLES

_SAMPLE_OF_TYPE = {content_type: name for name, (content_type, _) in SAMPLES.items()}
_TOKEN_FIELDS = ("id", "name", "description", "currency_token_id", "salable_percentage", "oracle", "created_at",
                 "updated_at")


def recorded_fixtures(reads: Sequence[RecordedRead]) -> dict[str, Any]:
    tokens: dict[str, dict[str, Any]] = {}
    for read in reads:
        body = read.body
        if read.operation != "getToken" or not isinstance(body, dict) or "id" not in body:
            continue
        value: dict[str, Any] = body["value"] if isinstance(body.get("value"), dict) else {}
        meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
        tokens[body["id"]] = {
            **{field: body[field] for field in _TOKEN_FIELDS if field in body},
            "total_value": value.get("total_value"),
            "token_price": value.get("token_price"),
            "images": [_attachment(item, "png") for item in meta.get("images") or []],
            "documents": [_attachment(item, "pdf") for item in meta.get("documents") or []],
        }
    return {"tokens": list(tokens.values())} if tokens else {}


def _attachment(item: dict[str, Any], default: str) -> dict[str, Any]:
    sample = _SAMPLE_OF_TYPE.get(str(item.get("content_type")), default)
    return {"id": item["id"], "name": item["name"], "sample": sample}
