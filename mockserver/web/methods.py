"""405 with an `Allow` header listing every method the spec gives the path.

Starlette answers 405 from the first route whose path matches, so `/nfts/refresh-metadata` (POST) would
advertise the methods of `/nfts/{token_id}` (GET). This guard looks at all of the spec's templates instead.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.openapi import RouteTable
from mockserver.web.errors import method_not_allowed


class MethodGuardMiddleware:
    """Refuse a method the spec does not define for any template matching the path."""

    def __init__(self, app: ASGIApp, routes: RouteTable) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self.routes.allowed_methods(scope["path"])
            if allowed and scope["method"] not in allowed:
                raise method_not_allowed(scope["method"], ", ".join(sorted(allowed)))
        await self.app(scope, receive, send)
