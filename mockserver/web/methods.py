"""405 with an `Allow` header listing every method the spec gives the path.

Starlette answers 405 from the first route whose path matches, so `/nfts/refresh-metadata` (POST) would
advertise the methods of `/nfts/{token_id}` (GET). This guard looks at all of the spec's templates instead.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.openapi import literal_segments, template_pattern
from mockserver.web.errors import method_not_allowed

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class MethodGuardMiddleware:
    """Refuse a method the spec does not define for any template matching the path."""

    def __init__(self, app: ASGIApp, spec: dict[str, Any]) -> None:
        self.app = app
        self.templates = [
            (template_pattern(path), literal_segments(path),
             {method.upper() for method in item if method in HTTP_METHODS})
            for path, item in spec.get("paths", {}).items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            matches = [(literals, methods) for pattern, literals, methods in self.templates
                       if pattern.match(scope["path"])]
            # OpenAPI: a concrete path wins over a templated one (`/nfts/refresh-metadata` over `/nfts/{token_id}`).
            most = max((literals for literals, _ in matches), default=0)
            allowed: set[str] = set()
            for literals, methods in matches:
                if literals == most:
                    allowed |= methods
            if "GET" in allowed:
                allowed.add("HEAD")
            if allowed and scope["method"] not in allowed:
                allow = ", ".join(sorted(allowed))
                raise method_not_allowed(scope["method"], allow)
        await self.app(scope, receive, send)
