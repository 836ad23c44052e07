"""Each API's authentication, plugged into Connexion's security middleware so it runs before validation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler

from mockserver.apis import Api
from mockserver.services import Services

Check = Callable[..., dict[str, Any]]


def bearer_token(authorization: str) -> str | None:
    """The credential of an `Authorization: Bearer <token>` value, the scheme in any case (RFC 9110 11.1), split as
    Connexion's `BearerSecurityHandler` splits it; None when the value is not a bearer credential."""
    parts = authorization.split(maxsplit=1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def credential_check(api: Api[Any], services: Services) -> Check:
    """The API's check of a credential: what Connexion calls `token_info`, or `ApiError` 401."""
    # A partial, not a lambda: it spares the fast path a Python frame per request (ir.sh: 2k instructions). Connexion
    # passes `required_scopes` only to a check whose signature takes it, and this one's does not.
    return functools.partial(api.principal, services.service_of(api))


def admin_check(token: str, required_scopes: Any = None) -> dict[str, Any]:
    """The admin API's: the admin token (when one is set) is checked by AdminTokenMiddleware before routing."""
    return {"sub": "admin"}


def security_map(check: Check) -> dict[str, type]:
    """Connexion security handlers whose check is `check` (an API service's own `authenticate`)."""

    class ApiKey(ApiKeySecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Check:
            return check

    class Bearer(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Check:
            return check

    return {"apiKey": ApiKey, "bearer": Bearer}
