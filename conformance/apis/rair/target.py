"""RAIR's section of the target file: the owner's and a non-owner's credential, and the owner's tokens."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from conformance.errors import TargetError
from conformance.target_base import ADDRESS, MiB, Section, Target

NAME = "rair"
_NETWORK = re.compile(r"^0x[0-9a-fA-F]+$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairToken:
    """A RAIR token the owner credential may update: the four path parameters that name it."""

    network: str
    contract: str
    product: int
    token: int

    @property
    def path(self) -> str:
        return f"/api/nft/network/{self.network}/{self.contract}/{self.product}/token/{self.token}"

    def path_parameters(self) -> dict[str, Any]:
        return {
            "networkId": self.network,
            "contract": self.contract,
            "product": self.product,
            "token": self.token,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairTarget:
    """RAIR credentials (owner and non-owner `x-rair-token`) and the tokens the owner owns."""

    owner_token: str = dataclasses.field(repr=False)
    non_owner_token: str | None = dataclasses.field(repr=False, default=None)
    tokens: tuple[RairToken, ...]
    max_files: int = 2
    max_file_bytes: int = 10 * MiB


def read_section(s: Section) -> RairTarget:
    tokens = []
    for index, item in enumerate(s.items("tokens")):
        t = Section(item, s.source, f"{s.prefix}tokens[{index}].")
        tokens.append(
            RairToken(
                network=t.string("network", pattern=_NETWORK),
                contract=t.string("contract", pattern=ADDRESS),
                product=t.integer("product"),
                token=t.integer("token"),
            )
        )
        t.done()
    if not tokens:
        raise TargetError(f"{s.source}: rair.tokens must list at least one token the owner owns")
    result = RairTarget(
        owner_token=s.string("owner_token"),
        non_owner_token=s.optional_string("non_owner_token"),
        tokens=tuple(tokens),
        max_files=s.integer("max_files", 2),
        max_file_bytes=s.integer("max_file_bytes", 10 * MiB, minimum=1),
    )
    s.done()
    return result


def rair_of(target: Target) -> RairTarget:
    return target.section(NAME, RairTarget)
