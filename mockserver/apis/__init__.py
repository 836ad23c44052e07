"""The registry: the APIs the mock serves, in the order they are mounted.

Registering an API also adds its sections to the settings and the fixtures, which know no API themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mockserver.fixtures as fixtures_sections
import mockserver.settings as settings_sections
from mockserver.apis import immutable, rair, tokenization
from mockserver.apis.base import Api, ApiInfo, RecordedRead

__all__ = ["API_SCOPE_KEY", "Api", "ApiInfo", "RecordedRead", "api_for_path", "api_of", "register", "registry",
           "unregister"]

# Where the server's outermost layer leaves an HTTP request's API (or None) in its ASGI scope, so that the layers
# under it read it instead of matching the path again (three did: about 19k instructions per request).
API_SCOPE_KEY = "mockserver.api"

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


def api_of(scope: Mapping[str, Any]) -> Api[Any] | None:
    """The API an HTTP request's scope is for: the one found on its way in, else the one its path names."""
    if API_SCOPE_KEY in scope:
        api: Api[Any] | None = scope[API_SCOPE_KEY]
        return api
    return api_for_path(scope.get("path", ""))


for _api in (rair.API, immutable.API, tokenization.API):
    register(_api)
