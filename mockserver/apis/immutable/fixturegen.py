"""Immutable's part of generated fixtures: collections on `imtbl-zkevm-testnet` of up to 1,000 NFTs with token ids
from 1; collections alternate between `project-alpha` and `project-beta`, the first being alpha's."""

from __future__ import annotations

import random
from typing import Any

from mockserver.apis.generate import FixturesGenerator, chunks, random_address, random_name

NFTS_PER_COLLECTION = 1000
CHAIN = "imtbl-zkevm-testnet"
PROJECTS = ("project-alpha", "project-beta")


def generate(rng: random.Random, count: int) -> dict[str, Any]:
    collections = []
    for index, size in enumerate(chunks(count, NFTS_PER_COLLECTION)):
        nfts = []
        for token_id in range(1, size + 1):
            name = random_name(rng)
            nfts.append({
                "token_id": str(token_id),
                "name": name,
                "description": f"{name}, NFT {token_id}",
                "image": f"https://example.com/nft/{rng.getrandbits(64):016x}.png",
                "external_url": None,
                "animation_url": None,
                "youtube_url": None,
                "attributes": [{"trait_type": "Power", "value": rng.randint(1, 100), "display_type": "number"}],
            })
        collections.append({"chain": CHAIN, "address": random_address(rng), "project": PROJECTS[index % 2],
                            "contract_type": "ERC721", "nfts": nfts})
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
