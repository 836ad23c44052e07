"""Immutable's fixtures section from recorded reads: each NFT `GetNFT` and `ListNFTs` returned, and the stacked
metadata `GetMetadata` and `ListMetadata` returned, by collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.apis.base import RecordedRead

# Reads do not say which project owns a collection; recorded ones belong to this one, which has no API key
# until you give it one (`immutable.projects`), so a refresh of a recorded collection is refused until then.
RECORDED_PROJECT = "recorded"
# The fields of a read NFT that a fixtures NFT takes as they are.
_NFT_FIELDS = ("token_id", "name", "description", "image", "external_url", "animation_url", "youtube_url",
               "attributes", "indexed_at", "updated_at", "metadata_synced_at", "metadata_id", "total_supply")
# The fields of read stacked metadata that a collection's `metadata:` entry takes as they are.
_METADATA_FIELDS = ("id", "name", "description", "image", "external_url", "animation_url", "youtube_url",
                    "attributes", "created_at", "updated_at")
_READS = {"GetNFT": "nfts", "ListNFTs": "nfts", "GetMetadata": "metadata", "ListMetadata": "metadata"}


def recorded_fixtures(reads: Sequence[RecordedRead]) -> dict[str, Any]:
    chains: dict[str, dict[str, str]] = {}
    collections: dict[tuple[str, str], dict[str, Any]] = {}
    for read in reads:
        body = read.body if isinstance(read.body, dict) else {}
        result = body.get("result")
        kind = _READS.get(read.operation)
        if kind is None:
            continue
        records: list[Any] = result if isinstance(result, list) else [result]
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("chain"), dict):
                continue
            chain = record["chain"]
            chains[chain["name"]] = {"name": chain["name"], "id": chain["id"]}
            collection = collections.setdefault((chain["name"], record["contract_address"]), {
                "chain": chain["name"], "address": record["contract_address"], "project": RECORDED_PROJECT,
                "contract_type": "ERC721", "nfts": {}, "metadata": {},
            })
            # The latest read of a record wins: it is what the upstream said last.
            if kind == "nfts":
                collection["contract_type"] = record.get("contract_type", collection["contract_type"])
                collection["nfts"][record["token_id"]] = {f: record[f] for f in _NFT_FIELDS if f in record}
            else:
                collection["metadata"][record["id"]] = {f: record[f] for f in _METADATA_FIELDS if f in record}
    if not collections:
        return {}
    return {
        "chains": list(chains.values()),
        "projects": [{"id": RECORDED_PROJECT, "api_keys": []}],
        "collections": [_collection_entry(collection) for collection in collections.values()],
    }


def _collection_entry(collection: dict[str, Any]) -> dict[str, Any]:
    """A collection as the fixtures list it, with `metadata:` only when stacked metadata was read."""
    entry = {**collection, "nfts": list(collection["nfts"].values())}
    metadata = list(entry.pop("metadata").values())
    return {**entry, "metadata": metadata} if metadata else entry
