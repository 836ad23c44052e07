"""Immutable's case repairs: the target's collection, NFTs and stacked metadata, unique ids, the refresh byte
limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from conformance.apis.base import AnyCase
from conformance.apis.immutable.target import immutable_of
from conformance.target_base import Target

KiB = 1024
MAX_ITEM_BYTES = 16 * KiB
MAX_LIST_BYTES = 228 * KiB


def known_path(target: Target, generated: Mapping[str, Any], pick: int) -> dict[str, Any]:
    section = immutable_of(target)
    known: dict[str, Any] = {
        "chain_name": section.collection.chain,
        "contract_address": section.collection.address,
    }
    if "token_id" in generated:
        known["token_id"] = section.token_ids[pick % len(section.token_ids)]
    if "metadata_id" in generated and section.metadata_ids:
        known["metadata_id"] = section.metadata_ids[pick % len(section.metadata_ids)]
    return known


def fix_refresh_body(case: AnyCase, target: Target) -> None:
    body = cast(dict[str, Any], case.body)
    items = body.get("nft_metadata")
    if not isinstance(items, list):
        return
    seen: set[int] = set()
    fixed = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("token_id"), str):
            fixed.append(item)
            continue
        token_id = int(item["token_id"])
        # A token id twice in one request is a 400 the schema cannot express; give repeats unused ids.
        while token_id in seen:
            token_id = (token_id + 1) % 2**256
        seen.add(token_id)
        fixed.append({**item, "token_id": str(token_id)})
    case.body = {**body, "nft_metadata": fixed}


def fix_stacked_refresh_body(case: AnyCase, target: Target) -> None:
    """Point a valid stacked refresh at the collection's known metadata, one item per id (an id twice is 400)."""
    known = immutable_of(target).metadata_ids
    body = cast(dict[str, Any], case.body)
    items = body.get("metadata")
    if not known or not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return
    fixed: list[Any] = [{**item, "metadata_id": m} for item, m in zip(items, known, strict=False)]
    case.body = {**body, "metadata": fixed}


def refresh_sizes_ok(body: dict[str, Any]) -> bool:
    """Immutable's byte limits on a refresh by token id, measured on compact JSON as the server measures them."""
    return _sizes_ok(body, "nft_metadata")


def stacked_refresh_sizes_ok(body: dict[str, Any]) -> bool:
    """The same byte limits on a stacked metadata refresh."""
    return _sizes_ok(body, "metadata")


def _sizes_ok(body: dict[str, Any], key: str) -> bool:
    items = body.get(key)
    if not isinstance(items, list):
        return True
    if len(_compact(items)) > MAX_LIST_BYTES:
        return False
    return all(len(_compact(item)) <= MAX_ITEM_BYTES for item in items)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def rate_headers_required(spec: dict[str, Any], target: Target) -> None:
    # The refresh description says every 202 and 429 carries the four rate headers, but the header objects
    # do not say `required: true`, without which Schemathesis never misses them. State it for the spec.
    for header in spec["components"]["headers"].values():
        header["required"] = True
