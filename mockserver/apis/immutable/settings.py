"""Immutable's settings section (`immutable.*`): how long a refresh takes to show, and the refresh quota."""

from __future__ import annotations

import dataclasses

from mockserver.settings import RateLimitSettings, Settings, SettingsSection, require

NAME = "immutable"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableRateLimitSettings(RateLimitSettings):
    """The refresh quota, and whether Immutable's two refresh operations spend it together."""

    # One budget for both refresh operations (by token id and stacked), as the vendor's rate headers describe
    # "the refresh request limit available to the project"; false gives each operation a budget of its own.
    shared: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableSettings:
    """Immutable's refresh behaviour: how long a refresh takes to show, and the per-project quota."""

    refresh_delay: float = 0.0
    rate_limit: ImmutableRateLimitSettings = dataclasses.field(default_factory=ImmutableRateLimitSettings)

    def __post_init__(self) -> None:
        require(self.rate_limit.limit >= 1, "immutable.rate_limit.limit", "must be at least 1")
        require(self.rate_limit.window >= 1, "immutable.rate_limit.window", "must be at least 1 second")
        require(self.refresh_delay >= 0, "immutable.refresh_delay", "must not be negative")


def immutable_settings(settings: Settings) -> ImmutableSettings:
    return settings.section(NAME, ImmutableSettings)


def limits_storage(settings: Settings) -> str:
    """The `limits` storage the quota names, which every limiter of the server counts in (see
    `mockserver.services.rate_limit_storage`)."""
    return immutable_settings(settings).rate_limit.storage


# The quota's storage URL may hold a password. `realistic`: "Metadata changes are reflected on Immutable's
# marketplaces within ~8 seconds" (Immutable's "Metadata refresh" guide,
# https://devsupport.immutable.com/products/zkEVM/minting/metadata/refresh).
SECTION = SettingsSection(type=ImmutableSettings, secret_urls=("rate_limit.storage",),
                          presets={"realistic": {"refresh_delay": 8.0}})
