"""Media types matched whatever their case, as HTTP means them (RFC 9110, section 8.3.1).

Connexion looks a request's media type up as sent, in the operation's `content` and in the validator map, and
when it finds nothing it skips body validation: `Multipart/Form-Data` or `Application/JSON` reached the handler
unchecked (a 500 for a form without its required fields). The media type (not its parameters: a boundary is
case-sensitive) is lowercased before Connexion sees it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class MediaTypeCaseMiddleware:
    """Lowercase the media type of the request's Content-Type, leaving its parameters as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(name, _lowered(value) if name == b"content-type" else value)
                       for name, value in scope["headers"]]
            if headers != scope["headers"]:
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def _lowered(content_type: bytes) -> bytes:
    media_type, separator, parameters = content_type.partition(b";")
    return media_type.lower() + separator + parameters
