"""Where the OpenAPI documents live: shipped inside the wheel, else the checkout's `specs/`.

The specs are the single source of truth. An installed wheel carries a copy in `conformance/specs/`
(hatch force-include), so the suite works without the checkout and never asks the server under test for its
own (possibly different) description of itself.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import SpecNotFoundError

# An API's name as `conformance.apis` registers it; its spec is `<name>.yaml`.
ApiName = str


def spec_dir() -> Path:
    """The directory holding one `<name>.yaml` per API."""
    packaged = Path(__file__).parent / "specs"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "specs"
    if checkout.is_dir():
        return checkout
    raise SpecNotFoundError(f"no OpenAPI documents at {packaged} or {checkout}; reinstall the package")


def spec_path(api: ApiName) -> Path:
    path = spec_dir() / f"{api}.yaml"
    if not path.is_file():
        raise SpecNotFoundError(f"the OpenAPI document of {api} is missing: {path}")
    return path


@cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def load_spec(api: ApiName, path: Path | None = None) -> dict[str, Any]:
    """A fresh copy of the API's document (at `path` when it is not one of the specs), safe to adjust."""
    return copy.deepcopy(_load(path or spec_path(api)))
