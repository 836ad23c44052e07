"""Tokenization's part of generated fixtures: tokens with random 24-hex-digit ids; one in four has an image, one in
eight a document."""

from __future__ import annotations

import random
from typing import Any

from mockserver.apis.generate import FixturesGenerator, UniqueIds, random_name

_ORACLE_CODES = ("IOG", "CHL", "PYT", "BND")


def generate(rng: random.Random, count: int) -> dict[str, Any]:
    ids = UniqueIds(rng)
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
            "currency_token_id": ids.next() if rng.random() < 0.5 else None,
            "salable_percentage": rng.randint(0, 100),
            "oracle": {"id": ids.next(), "code": rng.choice(_ORACLE_CODES)} if rng.random() < 0.5
            else {"id": None, "code": None},
        }
        if index % 4 == 0:
            token["images"] = [{"id": ids.next(), "name": f"image-{index}.png"}]
        if index % 8 == 0:
            token["documents"] = [{"id": ids.next(), "name": f"document-{index}.pdf"}]
        tokens.append(token)
    return {"bearer_tokens": ["tkn-admin-token"], "tokens": tokens}


GENERATOR = FixturesGenerator(generate=generate, expand=frozenset({"bearer_tokens", "tokens"}))
