"""The specs the mock serves name the mock itself as their server, at the address the client used.

Connexion serves each spec with `servers: [{url: ''}]` (its base path), which Swagger UI lists as no server at
all; the specs' own `/` says nothing of where the mock runs either. A client that fetched the spec from
`http://127.0.0.1:8080` (or through a tunnel, or from a container's published port) reached the mock there, so
that is the server Swagger UI's "Try it out" and any generated client should call.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DESCRIPTION = "this mock server"


class ServedSpecServersMiddleware:
    """Rewrites `servers` of the JSON specs served at `paths` to the mock's URL."""

    def __init__(self, app: ASGIApp, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" and scope["method"] == "GET" else ""
        if path not in self.paths:
            await self.app(scope, receive, send)
            return
        base_url = str(Request(scope).base_url).rstrip("/")
        start: Message = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            if start["status"] == 200:
                body = _with_server(body, base_url)
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-length"] = str(len(body))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def _with_server(body: bytes, base_url: str) -> bytes:
    """The mock's URL in front of the path Connexion serves the spec's operations under (`/__mock` for admin)."""
    spec: dict[str, Any] = json.loads(body)
    servers = spec.get("servers") or [{"url": ""}]
    base_path = urlsplit(servers[0]["url"]).path.rstrip("/")
    spec["servers"] = [{"url": base_url + base_path, "description": DESCRIPTION}]
    return json.dumps(spec).encode()
