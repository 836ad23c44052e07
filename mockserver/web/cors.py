"""CORS, so that browser code (a web app, Swagger UI served elsewhere) can call the mock across origins.

Starlette's `CORSMiddleware`, placed outermost in each Connexion app (`BEFORE_EXCEPTION`): it answers a
preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself, before the method guard
(which would say 405 to `OPTIONS`) and before auth, and it adds its headers to every response the app's
exception handling produces, errors (401, 404, 405, 429, ...) included.
"""

from __future__ import annotations

from collections.abc import Sequence

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from starlette.middleware.cors import CORSMiddleware

# Request headers the three APIs (and the mock's controls) read, and the ones Immutable's TypeScript clients
# add (`x-sdk-version` from `@imtbl/generated-clients`' `createConfig`, the publishable key of `@imtbl/sdk`).
# Starlette adds the CORS-safelisted ones (Accept, Accept-Language, Content-Language, Content-Type).
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Prefer",
    "x-rair-token",
    "x-immutable-api-key",
    "x-immutable-publishable-key",
    "x-sdk-version",
)

# Response headers scripts may read besides the safelisted ones: Immutable's refresh quota (202 and 429),
# `Retry-After` (both spellings the mock sends), the IETF RateLimit headers of per-operation limits, and
# `Preference-Applied` (answers to `Prefer`).
EXPOSE_HEADERS = (
    "imx-refreshes-limit",
    "imx-refresh-limit-reset",
    "imx-remaining-refreshes",
    "retry-after",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Preference-Applied",
)

PREFLIGHT_MAX_AGE = 600


def add_cors(app: AsyncApp, origins: Sequence[str]) -> None:
    """Answer CORS preflights and mark the app's responses for `origins` (`["*"]`: any origin).

    No credentials mode: the APIs authenticate with headers, not cookies, so `*` stays allowed.
    """
    app.add_middleware(
        CORSMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        allow_origins=list(origins),
        allow_methods=["*"],
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        max_age=PREFLIGHT_MAX_AGE,
    )
