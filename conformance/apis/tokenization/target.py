"""Tokenization's section of the target file: the bearer token, a token it may update and its files."""

from __future__ import annotations

import dataclasses
import re

from conformance.errors import TargetError
from conformance.target_base import MiB, Section, Target

NAME = "tokenization"
_HEX_ID = re.compile(r"^[0-9a-fA-F]{24}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenizationTarget:
    """The Tokenization bearer token and a token with its image and document ids."""

    bearer_token: str = dataclasses.field(repr=False)
    token_id: str
    image_ids: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    # Other tokens the credential can read: the isolation check requires them unchanged by updates of `token_id`.
    other_token_ids: tuple[str, ...] = ()
    max_file_bytes: int = 10 * MiB


def read_section(s: Section) -> TokenizationTarget:
    def ids(key: str) -> tuple[str, ...]:
        values = tuple(str(v) for v in s.items(key, required=False))
        bad = [v for v in values if not _HEX_ID.match(v)]
        if bad:
            raise TargetError(
                f"{s.source}: tokenization.{key} holds ids that are not 24 hex digits: {', '.join(bad)}"
            )
        return values

    result = TokenizationTarget(
        bearer_token=s.string("bearer_token"),
        token_id=s.string("token_id", pattern=_HEX_ID),
        image_ids=ids("image_ids"),
        document_ids=ids("document_ids"),
        other_token_ids=ids("other_token_ids"),
        max_file_bytes=s.integer("max_file_bytes", 10 * MiB, minimum=1),
    )
    s.done()
    return result


def tokenization_of(target: Target) -> TokenizationTarget:
    return target.section(NAME, TokenizationTarget)
