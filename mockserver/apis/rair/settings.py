"""RAIR's settings section (`rair.*`): the upload limits of its token metadata update, and its server-wide rate
limit."""

from __future__ import annotations

import dataclasses

from mockserver.settings import MiB, Settings, SettingsSection, require

NAME = "rair"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairRateLimitSettings:
    """RAIR's server-wide limit per client address: `express-rate-limit` with `windowMs: 60 * 1000`,
    `limit: process.env.RATE_LIMIT_MINUTE || 500` and `standardHeaders: 'draft-7'` in rair-node's `bin/index.js`.
    Off by default (it gets in the way of development); the `realistic` preset turns it on."""

    enabled: bool = False
    limit: int = 500
    window: int = 60

    def __post_init__(self) -> None:
        require(self.limit >= 1, "rair.rate_limit.limit", "must be at least 1")
        require(self.window >= 1, "rair.rate_limit.window", "must be at least 1 second")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairSettings:
    """Upload limits of RAIR's token metadata update, and RAIR's server-wide rate limit."""

    max_files: int = 2
    max_file_bytes: int = 10 * MiB
    rate_limit: RairRateLimitSettings = dataclasses.field(default_factory=RairRateLimitSettings)

    def __post_init__(self) -> None:
        require(self.max_files >= 0, "rair.max_files", "must not be negative")
        require(self.max_file_bytes >= 1, "rair.max_file_bytes", "must be at least 1")


def rair_settings(settings: Settings) -> RairSettings:
    return settings.section(NAME, RairSettings)


# `max_files` is the served spec's maxItems, built in at startup. `realistic`: 500 requests a minute per client
# address, with IETF RateLimit headers (rair-node's bin/index.js).
SECTION = SettingsSection(type=RairSettings, startup_only=("max_files",),
                          presets={"realistic": {"rate_limit": {"enabled": True}}})
