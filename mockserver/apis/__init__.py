"""The registry: the APIs the mock serves, in the order they are mounted."""

from __future__ import annotations

from mockserver.apis import immutable, rair, tokenization
from mockserver.apis.base import ApiInfo

__all__ = ["REGISTRY", "ApiInfo", "api_for_path", "registry"]

REGISTRY: tuple[ApiInfo, ...] = (rair.INFO, immutable.INFO, tokenization.INFO)


def registry() -> tuple[ApiInfo, ...]:
    """The APIs in the order they are mounted."""
    return REGISTRY


def api_for_path(path: str) -> ApiInfo | None:
    """The API whose paths start like `path`, if any."""
    return next((api for api in REGISTRY if path.startswith(api.prefix)), None)
