"""Each API's authentication, plugged into Connexion's security middleware so it runs before validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler

from mockserver.services import Services

Check = Callable[..., dict[str, Any]]


def bearer_token(authorization: str) -> str | None:
    """The credential of an `Authorization: Bearer <token>` value, the scheme in any case (RFC 9110 11.1), split as
    Connexion's `BearerSecurityHandler` splits it; None when the value is not a bearer credential."""
    parts = authorization.split(maxsplit=1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def credential_check(api: str, services: Services) -> Check:
    """The API's check of a credential: what Connexion calls `token_info`, or `ApiError` 401."""
    checks: dict[str, Check] = {
        # The admin token (when one is set) is checked by AdminTokenMiddleware before routing.
        "admin": lambda token, required_scopes=None: {"sub": "admin"},
        "rair": lambda api_key, required_scopes=None: {"sub": api_key, "user": services.rair.authenticate(api_key)},
        "immutable": lambda api_key, required_scopes=None: {
            "sub": api_key, "key": services.immutable.authenticate(api_key)
        },
        "tokenization": lambda token, required_scopes=None: {
            "sub": services.tokenization.authenticate(token)
        },
    }
    return checks[api]


def security_map(api: str, services: Services) -> dict[str, type]:
    """Connexion security handlers whose check is the API service's own `authenticate`."""
    check = credential_check(api, services)

    class ApiKey(ApiKeySecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Check:
            return check

    class Bearer(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Check:
            return check

    return {"apiKey": ApiKey, "bearer": Bearer}
