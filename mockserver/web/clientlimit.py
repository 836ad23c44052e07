"""An API's limit on every request from one client address (`Api.client_limit`), such as a server-wide one.

It runs before the fast path and Connexion, so every request to the API counts, whatever it asks and whether or not
it is valid, as a limit mounted in front of a server's routes does; preflights are left to CORS, which answers them
before such a limit in the servers that have one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion.lifecycle import ConnexionResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import Api
from mockserver.errors import ApiError, StoreUnavailable
from mockserver.services import Services
from mockserver.web.cors import send_with_cors
from mockserver.web.errors import error_response, store_unavailable


class ClientLimitMiddleware:
    def __init__(self, app: ASGIApp, services: Services, api: Api[Any]) -> None:
        """`app`: what serves `api`'s HTTP requests, and nothing else; `api` has a `client_limit`."""
        if api.client_limit is None:
            raise ValueError(f"the {api.name} API has no client limit")
        self.app = app
        self.services = services
        self.api = api
        self.limit = api.client_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            headers = self.limit(self.services.service_of(self.api), client[0] if client else "unknown")
        except StoreUnavailable as exc:  # a shared limiter storage that does not answer
            await self._answer(scope, receive, send, error_response(scope["path"], store_unavailable(exc)))
            return
        except ApiError as error:
            await self._answer(scope, receive, send, error_response(scope["path"], error))
            return
        if not headers:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _adding(send, headers))

    async def _answer(self, scope: Scope, receive: Receive, send: Send, response: ConnexionResponse) -> None:
        await send_with_cors(scope, receive, send, response, self.services.settings.cors_origins)


def _adding(send: Send, headers: Mapping[str, str]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableHeaders(scope=message)
            for name, value in headers.items():
                response_headers[name] = value
        await send(message)

    return send_with_headers
