"""Tokenization's settings section (`tokenization.*`): the upload limits of its admin token update."""

from __future__ import annotations

import dataclasses

from mockserver.settings import MiB, Settings, SettingsSection, require

NAME = "tokenization"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenizationSettings:
    """Upload limits of Tokenization TR's admin token update."""

    max_file_bytes: int = 10 * MiB
    # The whole request is held while it is validated, so this also bounds memory per upload in flight.
    max_request_bytes: int = 25 * MiB

    def __post_init__(self) -> None:
        require(self.max_file_bytes >= 1, "tokenization.max_file_bytes", "must be at least 1")
        require(self.max_request_bytes >= 1, "tokenization.max_request_bytes", "must be at least 1")


def tokenization_settings(settings: Settings) -> TokenizationSettings:
    return settings.section(NAME, TokenizationSettings)


SECTION = SettingsSection(type=TokenizationSettings)
