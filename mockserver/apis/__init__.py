"""The registry: the APIs the mock serves, in the order they are mounted."""

from __future__ import annotations

from typing import Any

from mockserver.apis import immutable, rair, tokenization
from mockserver.apis.base import Api, ApiInfo

__all__ = ["REGISTRY", "Api", "ApiInfo", "api_for_path", "registry"]

REGISTRY: tuple[Api[Any], ...] = (rair.API, immutable.API, tokenization.API)


def registry() -> tuple[Api[Any], ...]:
    """The APIs in the order they are mounted."""
    return REGISTRY


def api_for_path(path: str) -> Api[Any] | None:
    """The API whose paths start like `path`, if any."""
    return next((api for api in REGISTRY if path.startswith(api.prefix)), None)
