"""The three specs as the server loads them: found beside the code, with configured limits written in."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mockserver.apis import ApiInfo
from mockserver.settings import Settings


def spec_dir() -> Path:
    """The specs shipped in the wheel, or the checkout's `specs/` when running from source."""
    packaged = Path(__file__).parent / "specs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "specs"


@cache
def _load(filename: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((spec_dir() / filename).read_text(encoding="utf-8"))
    return loaded


def load_spec(api: ApiInfo, settings: Settings) -> dict[str, Any]:
    """The API's spec with the configured limits in place, so the served spec states what the server enforces."""
    spec = copy.deepcopy(_load(api.spec_file))
    if api.name == "rair":
        files = spec["components"]["schemas"]["TokenMetadataUpdate"]["properties"]["files"]
        files["maxItems"] = settings.rair.max_files
    return spec
