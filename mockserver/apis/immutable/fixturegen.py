"""Immutable's part of generated fixtures: collections on `imtbl-zkevm-testnet` of up to 1,000 NFTs with token ids
from 1; collections alternate between `project-alpha` and `project-beta`, the first being alpha's. Every tenth NFT
carries stacked metadata instead of values of its own, ten NFTs to each set (token ids 10 to 100 the first)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from mockserver.apis.generate import FixturesGenerator, chunks, random_address, random_name

NFTS_PER_COLLECTION = 1000
CHAIN = "imtbl-zkevm-testnet"
PROJECTS = ("project-alpha", "project-beta")
STACKED_EVERY = 10  # every tenth NFT carries stacked metadata
CARRIERS_PER_METADATA = 10


def _attributes(rng: random.Random) -> list[dict[str, Any]]:
    return [{"trait_type": "Power", "value": rng.randint(1, 100), "display_type": "number"}]


def _stacked_metadata(rng: random.Random, index: int) -> dict[str, Any]:
    name = random_name(rng)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": name,
        "description": f"{name}, stacked metadata {index + 1}",
        "image": f"https://example.com/metadata/{rng.getrandbits(64):016x}.png",
        "external_url": None,
        "animation_url": None,
        "youtube_url": None,
        "attributes": _attributes(rng),
    }


def generate(rng: random.Random, count: int) -> dict[str, Any]:
    collections = []
    for index, size in enumerate(chunks(count, NFTS_PER_COLLECTION)):
        nfts: list[dict[str, Any]] = []
        metadata: list[dict[str, Any]] = []
        for token_id in range(1, size + 1):
            if token_id % STACKED_EVERY == 0:
                shared = (token_id // STACKED_EVERY - 1) // CARRIERS_PER_METADATA
                if shared == len(metadata):
                    metadata.append(_stacked_metadata(rng, shared))
                nfts.append({"token_id": str(token_id), "metadata_id": metadata[shared]["id"]})
                continue
            name = random_name(rng)
            nfts.append({
                "token_id": str(token_id),
                "name": name,
                "description": f"{name}, NFT {token_id}",
                "image": f"https://example.com/nft/{rng.getrandbits(64):016x}.png",
                "external_url": None,
                "animation_url": None,
                "youtube_url": None,
                "attributes": _attributes(rng),
            })
        collection = {"chain": CHAIN, "address": random_address(rng), "project": PROJECTS[index % 2],
                      "contract_type": "ERC721", "nfts": nfts}
        collections.append({**collection, "metadata": metadata} if metadata else collection)
    return {
        "chains": [{"name": "imtbl-zkevm-testnet", "id": "eip155:13473"},
                   {"name": "imtbl-zkevm-mainnet", "id": "eip155:13371"},
                   {"name": "imtbl-zkevm-devnet", "id": "eip155:15003"}],
        "projects": [
            {"id": "project-alpha", "api_keys": [
                {"key": "sk_imapik-test-alpha-refresh", "scopes": ["refresh:metadata"]},
                {"key": "sk_imapik-test-alpha-readonly", "scopes": []},
            ]},
            {"id": "project-beta", "api_keys": [
                {"key": "sk_imapik-test-beta-refresh", "scopes": ["refresh:metadata"]},
            ]},
        ],
        "collections": collections,
    }


GENERATOR = FixturesGenerator(generate=generate, expand=frozenset({"chains", "projects", "collections", "nfts"}))
