"""CORS, so that browser code (a web app, Swagger UI served elsewhere) can call the mock across origins.

Starlette's `CORSMiddleware`, placed outermost in each Connexion app (`BEFORE_EXCEPTION`): it answers a
preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself, before the method guard
(which would say 405 to `OPTIONS`) and before auth, and it adds its headers to every response the app's
exception handling produces, errors (401, 404, 405, 429, ...) included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connexion import AsyncApp
from connexion.lifecycle import ConnexionResponse
from connexion.middleware import MiddlewarePosition
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.apis import registry
from mockserver.web.errors import send_response

# Request headers every API (and the mock's controls) read; each API adds its own, which its clients send.
# Starlette adds the CORS-safelisted ones (Accept, Accept-Language, Content-Language, Content-Type).
ALLOW_HEADERS = ("Authorization", "Content-Type", "Prefer")

# Response headers scripts may read besides the safelisted ones (after each API's own): `Retry-After` (both
# spellings the mock sends), the IETF RateLimit headers of per-operation limits, and `Preference-Applied` (answers to
# `Prefer`).
EXPOSE_HEADERS = (
    "retry-after",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Preference-Applied",
)

PREFLIGHT_MAX_AGE = 600


def allowed_request_headers() -> list[str]:
    """The request headers browsers may send: the common ones, each API's credential header and its own extras."""
    common = {header.lower() for header in ALLOW_HEADERS}
    per_api = [header for api in registry() for header in (api.credential_header, *api.cors_request_headers)]
    return [*ALLOW_HEADERS, *dict.fromkeys(header for header in per_api if header.lower() not in common)]


def add_cors(app: AsyncApp, origins: Sequence[str]) -> None:
    """Answer CORS preflights and mark the app's responses for `origins` (`["*"]`: any origin).

    No credentials mode: the APIs authenticate with headers, not cookies, so `*` stays allowed.
    """
    app.add_middleware(CORSMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, **_options(origins))


def with_cors(app: ASGIApp, origins: Sequence[str]) -> ASGIApp:
    """`app` with the CORS headers `add_cors` gives, for answers sent before a request reaches a Connexion app."""
    return CORSMiddleware(app, **_options(origins))


async def send_with_cors(scope: Scope, receive: Receive, send: Send, response: ConnexionResponse,
                         origins: Sequence[str]) -> None:
    """Send an answer made before a request reaches a Connexion app (a limit's 429, the proxy's 502) with the CORS
    headers the apps' answers carry: without them a browser hides it from the page as a network error."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send_response(send, response, vary=False)

    await with_cors(answer, origins)(scope, receive, send)


def _options(origins: Sequence[str]) -> dict[str, Any]:
    return {
        "allow_origins": list(origins),
        "allow_methods": ["*"],
        "allow_headers": allowed_request_headers(),
        "expose_headers": [*(header for api in registry() for header in api.cors_response_headers), *EXPOSE_HEADERS],
        "max_age": PREFLIGHT_MAX_AGE,
    }
