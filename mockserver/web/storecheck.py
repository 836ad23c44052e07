"""Before each request that uses the store: it still holds its state (else it is loaded again) and answers."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.services import Services
from mockserver.web.admin import HEALTH_PATH


class StoreCheckMiddleware:
    """Runs `Store.ensure_loaded` before every request an API's or the admin API's Connexion app routes.

    A Redis restarted without persistence comes back empty: without this, every credential would be unknown
    and every record missing until someone reset the mock by hand. While Redis does not answer, the
    `StoreUnavailable` raised here becomes the API's 503 in the app's exception handling, so it carries CORS
    headers like any other error. Placed at `BEFORE_ROUTING`, it runs after CORS (a preflight is answered without
    the store), the Host check and the admin token, and after Swagger UI and the specs, which do not use the
    store. The page and its files do not pass here; the fast path runs the same check itself. The health check
    answers for itself, in its own shape.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != HEALTH_PATH:
            self.services.store.ensure_loaded()
        await self.app(scope, receive, send)
