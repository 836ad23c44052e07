"""The registry: the APIs the mock serves, in the order they are mounted.

Registering an API also adds its sections to the settings and the fixtures, which know no API themselves.
"""

from __future__ import annotations

from typing import Any

import mockserver.fixtures as fixtures_sections
import mockserver.settings as settings_sections
from mockserver.apis import immutable, rair, tokenization
from mockserver.apis.base import Api, ApiInfo, RecordedRead

__all__ = ["Api", "ApiInfo", "RecordedRead", "api_for_path", "register", "registry", "unregister"]

_registry: tuple[Api[Any], ...] = ()


def registry() -> tuple[Api[Any], ...]:
    """The APIs in the order they are mounted. A new tuple after each change, so what is made from it can be
    cached by its identity."""
    return _registry


def register(api: Api[Any]) -> None:
    """Serve one more API in servers created from now on (an API of your own, or a test's)."""
    global _registry
    if any(known.name == api.name or known.prefix.startswith(api.prefix) or api.prefix.startswith(known.prefix)
           for known in _registry):
        raise ValueError(f"an API named {api.name!r} or with paths under {api.prefix!r} is already registered")
    _registry = (*_registry, api)
    if api.fixtures_section is not None:
        fixtures_sections.add_section(api.name, api.fixtures_section)
    if api.settings_section is not None:
        settings_sections.add_section(api.name, api.settings_section)


def unregister(name: str) -> None:
    """Stop serving an API registered with `register` in servers created from now on."""
    global _registry
    _registry = tuple(api for api in _registry if api.name != name)
    fixtures_sections.remove_section(name)
    settings_sections.remove_section(name)


def api_for_path(path: str) -> Api[Any] | None:
    """The API whose paths start like `path`, if any."""
    # A loop, not `next()` over a generator: less than half the cost, and it runs for every request.
    for api in _registry:
        if path.startswith(api.prefix):
            return api
    return None


for _api in (rair.API, immutable.API, tokenization.API):
    register(_api)
