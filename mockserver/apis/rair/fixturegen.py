"""RAIR's part of generated fixtures: contracts on network `0x89` owned by `rair-owner-token`'s wallet, each with
up to 10 products of up to 100 tokens numbered from 0."""

from __future__ import annotations

import random
from typing import Any

from mockserver.apis.generate import (
    COLLECTOR_ADDRESS,
    NOUNS,
    OWNER_ADDRESS,
    FixturesGenerator,
    chunks,
    random_address,
    random_name,
)

TOKENS_PER_PRODUCT = 100
PRODUCTS_PER_CONTRACT = 10
NETWORK = "0x89"
_COLOURS = ("Pink", "Blue", "Gold", "Green", "Violet", "Silver")


def generate(rng: random.Random, count: int) -> dict[str, Any]:
    contracts = []
    for contract_size in chunks(count, TOKENS_PER_PRODUCT * PRODUCTS_PER_CONTRACT):
        products = []
        for product, product_size in enumerate(chunks(contract_size, TOKENS_PER_PRODUCT)):
            tokens = []
            for token in range(product_size):
                name = random_name(rng)
                tokens.append({
                    "token": token,
                    "offerPool": product,
                    "offer": 0,
                    "metadata": {
                        "name": f"{name} #{token}",
                        "description": f"{name}, token {token} of product {product}",
                        "artist": rng.choice(NOUNS).lower(),
                        "image": f"https://example.com/rair/{rng.getrandbits(64):016x}.png",
                        "attributes": [{"trait_type": "Crystal Color", "value": rng.choice(_COLOURS)}],
                    },
                })
            products.append({"product": product, "tokens": tokens})
        contracts.append({"network": NETWORK, "address": random_address(rng), "owner": OWNER_ADDRESS,
                          "products": products})
    return {
        "users": [{"credential": "rair-owner-token", "address": OWNER_ADDRESS},
                  {"credential": "rair-collector-token", "address": COLLECTOR_ADDRESS}],
        "contracts": contracts,
    }


GENERATOR = FixturesGenerator(generate=generate, expand=frozenset({"users", "contracts", "products", "tokens"}))
