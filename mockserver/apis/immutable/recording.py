"""Immutable's fixtures section from recorded reads: each NFT `GetNFT` and `ListNFTs` returned, by collection."""

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


def recorded_fixtures(reads: Sequence[RecordedRead]) -> dict[str, Any]:
    chains: dict[str, dict[str, str]] = {}
    collections: dict[tuple[str, str], dict[str, Any]] = {}
    for read in reads:
        body = read.body if isinstance(read.body, dict) else {}
        result = body.get("result")
        if read.operation not in ("GetNFT", "ListNFTs"):
            continue
        nfts: list[Any] = result if isinstance(result, list) else [result]
        for nft in nfts:
            if not isinstance(nft, dict) or not isinstance(nft.get("chain"), dict):
                continue
            chain = nft["chain"]
            chains[chain["name"]] = {"name": chain["name"], "id": chain["id"]}
            collection = collections.setdefault((chain["name"], nft["contract_address"]), {
                "chain": chain["name"], "address": nft["contract_address"], "project": RECORDED_PROJECT,
                "contract_type": nft.get("contract_type", "ERC721"), "nfts": {},
            })
            # The latest read of an NFT wins: it is what the upstream said last.
            collection["nfts"][nft["token_id"]] = {field: nft[field] for field in _NFT_FIELDS if field in nft}
    if not collections:
        return {}
    return {
        "chains": list(chains.values()),
        "projects": [{"id": RECORDED_PROJECT, "api_keys": []}],
        "collections": [{**collection, "nfts": list(collection["nfts"].values())}
                        for collection in collections.values()],
    }
