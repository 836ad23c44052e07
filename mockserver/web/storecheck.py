"""Before each request: the store still holds its state (else it is loaded again) and answers at all."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import StoreUnavailable
from mockserver.services import Services
from mockserver.web.admin import HEALTH_PATH
from mockserver.web.errors import error_response, send_response, store_unavailable


class StoreCheckMiddleware:
    """Runs `Store.ensure_loaded` before every request (the APIs, the admin API, files, the page).

    A Redis restarted without persistence comes back empty: without this, every credential would be unknown
    and every record missing until someone reset the mock by hand. While Redis does not answer, the request
    gets its API's 503 at once. The health check answers for itself, in its own shape.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != HEALTH_PATH:
            try:
                self.services.store.ensure_loaded()
            except StoreUnavailable as exc:
                await send_response(send, error_response(scope["path"], store_unavailable(exc)))
                return
        await self.app(scope, receive, send)
