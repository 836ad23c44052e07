"""RAIR's settings section (`rair.*`): the upload limits of its token metadata update."""

from __future__ import annotations

import dataclasses

from mockserver.settings import MiB, Settings, SettingsSection, require

NAME = "rair"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairSettings:
    """Upload limits of RAIR's token metadata update."""

    max_files: int = 2
    max_file_bytes: int = 10 * MiB

    def __post_init__(self) -> None:
        require(self.max_files >= 0, "rair.max_files", "must not be negative")
        require(self.max_file_bytes >= 1, "rair.max_file_bytes", "must be at least 1")


def rair_settings(settings: Settings) -> RairSettings:
    return settings.section(NAME, RairSettings)


# `max_files` is the served spec's maxItems, built in at startup.
SECTION = SettingsSection(type=RairSettings, startup_only=("max_files",))
