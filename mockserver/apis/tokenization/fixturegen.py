"""Tokenization's part of generated fixtures: the currencies tokens are valued in, and tokens with random
24-hex-digit ids; half are valued in one of the currencies, one in four has an image, one in eight a document."""

from __future__ import annotations

import random
from typing import Any

from mockserver.apis.generate import FixturesGenerator, UniqueIds, random_address, random_name

_ORACLE_CODES = ("IOG", "CHL", "PYT", "BND")
# Stablecoins' symbols and decimals, each given a made-up id and contract address.
_CURRENCIES = (("USDT", 6), ("USDC", 6), ("DAI", 18))


def generate(rng: random.Random, count: int) -> dict[str, Any]:
    ids = UniqueIds(rng)
    currencies = [{"id": ids.next(), "symbol": symbol, "decimal": decimal, "address": random_address(rng)}
                  for symbol, decimal in _CURRENCIES]
    tokens = []
    for index in range(count):
        supply = rng.choice((100, 500, 1000, 5000))
        price = rng.randint(1, 500)
        token: dict[str, Any] = {
            "id": ids.next(),
            "name": f"{random_name(rng)} {index}",
            "description": f"Tokenised asset number {index}",
            "total_value": supply * price,
            "supply": supply,
            "token_price": price,
            "currency_token_id": rng.choice(currencies)["id"] if rng.random() < 0.5 else None,
            "salable_percentage": rng.randint(0, 100),
            "oracle": {"id": ids.next(), "code": rng.choice(_ORACLE_CODES)} if rng.random() < 0.5
            else {"id": None, "code": None},
        }
        if index % 4 == 0:
            token["images"] = [{"id": ids.next(), "name": f"image-{index}.png"}]
        if index % 8 == 0:
            token["documents"] = [{"id": ids.next(), "name": f"document-{index}.pdf"}]
        tokens.append(token)
    return {"bearer_tokens": ["tkn-admin-token"], "currencies": currencies, "tokens": tokens}


GENERATOR = FixturesGenerator(generate=generate, expand=frozenset({"bearer_tokens", "currencies", "tokens"}))
