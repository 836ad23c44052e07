"""The ASGI application: the three APIs mounted at their real paths on one Connexion `AsyncApp`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.apis import Api, api_for_path, registry
from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.files import CACHE_FOREVER, FILES_PREFIX
from mockserver.fixtures import Fixtures
from mockserver.openapi import load_admin_spec, load_spec, route_table
from mockserver.services import Services, Sleep
from mockserver.settings import MiB, Settings
from mockserver.web.admin import PREFIX as ADMIN_PREFIX
from mockserver.web.admin import AdminHandlers, AdminTokenMiddleware, PreflightedOnlyMiddleware
from mockserver.web.bodylimit import BodyLimitMiddleware, Cap
from mockserver.web.bodytimeout import BodyTimeoutMiddleware, Watchdogs
from mockserver.web.clientlimit import ClientLimitMiddleware
from mockserver.web.controls import ControlsMiddleware, OperationLimitMiddleware
from mockserver.web.cors import add_cors
from mockserver.web.errors import handle_error
from mockserver.web.fastpath import FastPath, Route, compile_routes
from mockserver.web.handlers import Handlers
from mockserver.web.hosts import AllowedHostsMiddleware
from mockserver.web.journal import JournalMiddleware
from mockserver.web.mediatype import MediaTypeCaseMiddleware
from mockserver.web.methods import MethodGuardMiddleware
from mockserver.web.page import add_page
from mockserver.web.security import admin_check, credential_check, security_map
from mockserver.web.servers import ServedSpecServersMiddleware
from mockserver.web.storecheck import StoreCheckMiddleware
from mockserver.web.uploadslots import LargeBodySlotMiddleware, LargeBodySlots
from mockserver.web.validation import VALIDATOR_MAP
from mockserver.web.workerheader import WorkerHeaderMiddleware

# Generous next to the APIs' own JSON size limits: pretty-printed JSON is larger than the compact form such a
# limit is measured on, and the exact check happens once the body is parsed.
JSON_BODY_CAP = 1 * MiB


class MockApp:
    """The mock server as an ASGI app, with its services reachable for tests and the CLI.

    Each API is its own Connexion app (Connexion routes only the first of several specs that share a base
    path); requests go to the app whose paths they start with, anything else to a root app.
    """

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None,
                 fixtures: Fixtures | None = None, sleep: Sleep | None = None,
                 proxy: Callable[[Services, Cap], ASGIApp] | None = None) -> None:
        """`proxy`: builds what answers the APIs' paths instead of the mock (`web/proxy.py`'s validating proxy);
        the specs, Swagger UIs, admin API and page stay the mock's."""
        self.services = Services(settings or Settings(), clock=clock, fixtures=fixtures, sleep=sleep)
        self.large_body_slots = LargeBodySlots(self.settings.clients.max_large_bodies)
        handlers = Handlers(self.services)
        specs = {api.name: load_spec(api, self.settings) for api in registry()}
        self._routes: list[tuple[tuple[str, ...], AsyncApp]] = [
            ((api.prefix, f"/openapi/{api.name}.json", f"/docs/{api.name}"),
             self._api_app(api, specs[api.name], handlers))
            for api in registry()
        ]
        if proxy is not None:  # first, so that it takes the APIs' paths; the API apps keep their specs and docs
            self._routes.insert(0, (tuple(api.prefix for api in registry()), proxy(self.services, self.body_cap)))
        if self.settings.admin_enabled:
            self._routes.append(((ADMIN_PREFIX + "/",), self._admin_app()))
        # The page, its files and uploaded files: the page needs no store, and a file read answers 503 itself.
        self._root = self._app(store_check=False)
        self._root.add_url_rule(FILES_PREFIX + "{key}", "file", self._serve_file)
        add_page(self._root)  # GET / and its files under /__page/
        # The page (and /__mock/ when the admin API is off) answers only to allowed Host names: DNS rebinding.
        self._root.add_middleware(AllowedHostsMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER,
                                  services=self.services)
        self._api_chains, self._other_chain = self._chains(self._dispatch, specs, handlers, mocking=proxy is None)

    def _chains(self, dispatch: ASGIApp, specs: dict[str, dict[str, Any]], handlers: Handlers, *,
                mocking: bool) -> tuple[dict[str, ASGIApp], ASGIApp]:
        """The server's own middleware around the dispatcher, listed outermost first (each wraps all below it): one
        chain per API (by name) for its requests, one for everything else (the page, specs, docs, admin API,
        lifespan), each with only the layers that act on its requests, decided here once rather than at every
        request.
        Outside them all, `__call__` enters the API's request scope; inside, each Connexion app adds its own
        (see `_app`, `_api_app` and `_admin_app`), among them the store check, which must run after CORS, the
        Host check and the admin token; the fast path checks the store itself. A proxy (not `mocking`) forwards
        the APIs' requests unchanged: neither the client limits nor the fast path stand in front of it."""
        services, settings = self.services, self.settings
        fast_routes = self._fast_routes(specs, handlers) if settings.fast_path and mocking else {}
        watchdogs = Watchdogs()

        def chain(api: Api[Any] | None) -> ASGIApp:
            layers: list[Callable[[ASGIApp], ASGIApp]] = [
                # X-Mock-Worker on every response, when asked for.
                *([WorkerHeaderMiddleware] if settings.worker_header else []),
                # Every request to an API and what was answered, whoever answered it.
                *([lambda app: JournalMiddleware(app, services, api)] if api is not None else []),
                # 408 for a body that stalls or trickles past its deadline.
                lambda app: BodyTimeoutMiddleware(app, services, watchdogs),
                # An API's limit on every request from a client address, before anything else looks at the request.
                *([lambda app: ClientLimitMiddleware(app, services, api)]
                  if api is not None and api.client_limit is not None and mocking else []),
                # Valid JSON, multipart and body-less requests answered without Connexion's per-request work.
                *([lambda app: FastPath(app, services, fast_routes[api.name], json_cap=JSON_BODY_CAP,
                                          body_cap=self.body_cap)]
                  if api is not None and api.name in fast_routes else []),
                # Each served spec names the mock, as the client reached it, as its server (Swagger UI's "Try it out").
                *([lambda app: ServedSpecServersMiddleware(app, self._spec_paths())] if api is None else []),
            ]
            app = dispatch
            for layer in reversed(layers):
                app = layer(app)
            return app

        return {api.name: chain(api) for api in registry()}, chain(None)

    def _spec_paths(self) -> list[str]:
        return [f"/openapi/{api.name}.json" for api in registry()] + [ADMIN_PREFIX + "/openapi.json"]

    def _fast_routes(self, specs: dict[str, dict[str, Any]], handlers: Handlers) -> dict[str, dict[str, list[Route]]]:
        """Each API's fast routes by method."""
        return {api.name: compile_routes(api, specs[api.name], handlers, self.services) for api in registry()}

    @property
    def settings(self) -> Settings:
        """The settings in force now (the admin API can change them while the server runs)."""
        return self.services.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other_chain(scope, receive, send)
            return
        api = api_for_path(scope.get("path", ""))
        chain = self._api_chains.get(api.name) if api is not None else None  # None too for an API registered since
        if api is None or chain is None:
            await self._other_chain(scope, receive, send)
            return
        # A request to an API runs in that API's per-request scope; a seeded server's clock moves one step once
        # it is answered.
        try:
            with api.request_scope(self.services.service_of(api)):
                await chain(scope, receive, send)
        finally:
            self.services.request_done()

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        app = next((app for prefixes, app in self._routes if path.startswith(prefixes)), self._root)
        await app(scope, receive, send)

    def _app(self, *, cors: bool = True, store_check: bool = True) -> AsyncApp:
        app = AsyncApp(__name__)
        if cors:
            add_cors(app, self.settings.cors_origins)
        app.add_middleware(BodyLimitMiddleware, position=MiddlewarePosition.BEFORE_ROUTING, cap=self.body_cap)
        app.add_middleware(MediaTypeCaseMiddleware, position=MiddlewarePosition.BEFORE_ROUTING)
        if store_check:  # before waiting for an upload slot: a store that does not answer is 503 at once
            app.add_middleware(StoreCheckMiddleware, position=MiddlewarePosition.BEFORE_ROUTING,
                               services=self.services)
        # After the cap, so an oversized body is refused at once rather than after waiting for a slot.
        app.add_middleware(LargeBodySlotMiddleware, position=MiddlewarePosition.BEFORE_ROUTING,
                           slots=self.large_body_slots, services=self.services)
        for error in (ApiError, ProblemException, HTTPException, Exception):
            app.add_error_handler(error, handle_error)
        for status in (404, 405):
            app.add_error_handler(status, handle_error)
        return app

    def _api_app(self, api: Api[Any], spec: dict[str, Any], handlers: Handlers) -> AsyncApp:
        app = self._app()
        routes = route_table(api.spec_file)
        app.add_middleware(MethodGuardMiddleware, position=MiddlewarePosition.BEFORE_ROUTING, routes=routes)
        app.add_middleware(ControlsMiddleware, position=MiddlewarePosition.BEFORE_SECURITY,
                           services=self.services, api=api, routes=routes)
        # After validation, so only requests the API would serve count (and response validation sees headers).
        app.add_middleware(OperationLimitMiddleware, position=MiddlewarePosition.BEFORE_CONTEXT,
                           services=self.services, api=api)
        app.add_api(
            spec,
            base_path="",
            name=api.name,
            resolver=Resolver(function_resolver=handlers.resolver(api.name)),
            validate_responses=self.settings.validate_responses,
            validator_map=VALIDATOR_MAP,
            security_map=security_map(credential_check(api, self.services)),
            swagger_ui_options=SwaggerUIOptions(
                spec_path=f"/openapi/{api.name}.json", swagger_ui_path=f"/docs/{api.name}"
            ),
        )
        return app

    def _admin_app(self) -> AsyncApp:
        # No CORS: the admin API is for the developer and the mock's own page (same origin), not for the web
        # pages they visit. Before Swagger UI, so that the spec and docs need the token too.
        app = self._app(cors=False)
        # First of all: a page that reached the mock by DNS rebinding learns nothing, not even whether a token is set.
        app.add_middleware(AllowedHostsMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER, services=self.services)
        app.add_middleware(AdminTokenMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER, services=self.services)
        app.add_middleware(PreflightedOnlyMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER)
        app.add_api(
            load_admin_spec(),
            base_path=ADMIN_PREFIX,
            name="admin",
            resolver=Resolver(function_resolver=AdminHandlers(self.services).resolve),
            validate_responses=self.settings.validate_responses,
            validator_map=VALIDATOR_MAP,
            security_map=security_map(admin_check),
            swagger_ui_options=SwaggerUIOptions(spec_path="/openapi.json", swagger_ui_path="/docs"),
        )
        return app

    def body_cap(self, method: str, path: str) -> int:
        """The most bytes a request to `path` may carry: what its uploads may add up to, else a JSON cap."""
        api = api_for_path(path)
        upload_cap = api.upload_cap(self.settings, method) if api is not None else None
        return upload_cap if upload_cap is not None else JSON_BODY_CAP

    async def _serve_file(self, request: Request) -> Response:
        blob = self.services.store.blobs.get(request.path_params["key"])
        if blob is None:
            return JSONResponse({"status": 404, "title": "No stored file has this key."}, status_code=404)
        # Uploads are client content: never let a browser run them as part of this origin.
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                   "Cache-Control": CACHE_FOREVER}
        return Response(blob.data, media_type=blob.content_type, headers=headers)

    def __repr__(self) -> str:
        return f"MockApp(settings={self.settings!r})"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               fixtures: Fixtures | None = None, sleep: Sleep | None = None) -> MockApp:
    """A mock server app on the given settings (defaults otherwise), clock, fixtures and sleep."""
    return MockApp(settings, clock=clock, fixtures=fixtures, sleep=sleep)
