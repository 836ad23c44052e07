"""What the APIs' fixture generators share: a generator's contract, made-up names and addresses, random ids."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from typing import Any

OWNER_ADDRESS = "0x1111111111111111111111111111111111111111"
COLLECTOR_ADDRESS = "0x2222222222222222222222222222222222222222"
ADJECTIVES = ("Amber", "Bright", "Crimson", "Silent", "Golden", "Hidden", "Iron", "Lunar", "Misty", "Swift",
              "Velvet", "Wild")
NOUNS = ("Anchor", "Comet", "Falcon", "Harbour", "Lantern", "Meadow", "Orchid", "Quartz", "Summit", "Tide",
         "Warden", "Zephyr")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixturesGenerator:
    """How an API makes its section of a generated fixtures document: `generate(rng, count)` gives the section
    with `count` tokens, drawing only from `rng`; the keys in `expand` hold lists written one entry per line."""

    generate: Callable[[random.Random, int], dict[str, Any]]
    expand: frozenset[str] = frozenset()


def random_name(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


def random_address(rng: random.Random) -> str:
    return f"0x{rng.getrandbits(160):040x}"


def chunks(total: int, size: int) -> Iterator[int]:
    """Sizes of consecutive groups of at most `size` covering `total`."""
    while total > 0:
        yield min(size, total)
        total -= size


class UniqueIds:
    """Random 24-hex-digit ids (MongoDB ObjectId form), never the same twice in one document."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def next(self) -> str:
        while True:
            value = f"{self._rng.getrandbits(96):024x}"
            if value not in self._seen:
                self._seen.add(value)
                return value
