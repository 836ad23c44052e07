"""The admin API under `/__mock/`: settings, the APIs served, state, rate limits, journal, reset and fixtures."""

from __future__ import annotations

import dataclasses
import hmac
import json
from collections.abc import Callable
from typing import Any

import yaml
from connexion.lifecycle import ConnexionResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.apis import registry
from mockserver.errors import ApiError, ConfigError, FixturesError, StoreUnavailable
from mockserver.fixtures import Fixtures, parse_fixtures, read_yaml, section_names
from mockserver.services import Services
from mockserver.settings import public_settings_tree
from mockserver.store import MEMORY_URL
from mockserver.web.errors import STORE_RETRY_AFTER
from mockserver.web.security import bearer_token

PREFIX = "/__mock"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The Content-Types a page may send cross-site without a preflight (Fetch standard, "CORS-safelisted request-header";
# "" is no Content-Type at all). Any other type, or any custom header, makes the browser ask first.
CORS_SAFELISTED_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
CUSTOM_HEADER_NAME = "X-Mock-Admin"
CUSTOM_HEADER = CUSTOM_HEADER_NAME.lower()
HEALTH_PATH = f"{PREFIX}/health"


class AdminHandlers:
    """One method per operationId of the admin spec, named exactly as the operationId (hence camelCase)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def resolve(self, operation_id: str) -> Callable[..., Any]:
        handler: Callable[..., Any] = getattr(self, operation_id)
        return handler

    async def getHealth(self) -> Any:
        kind = "memory" if self._services.settings.store == MEMORY_URL else "redis"
        try:
            self._services.store.ensure_loaded()
        except StoreUnavailable:
            body = {"status": "unavailable", "store": kind, "message": f"the {kind} store does not answer"}
            return ConnexionResponse(status_code=503, body=json.dumps(body), content_type="application/json",
                                     headers={"Retry-After": str(STORE_RETRY_AFTER)})
        return _json({"status": "ok", "store": kind})

    async def getSettings(self) -> Any:
        return _json(public_settings_tree(self._services.settings))

    async def patchSettings(self, body: dict[str, Any]) -> Any:
        try:
            settings = self._services.update(body)
        except ConfigError as exc:
            raise ApiError(400, str(exc)) from None
        return _json(public_settings_tree(settings))

    async def reset(self) -> Any:
        self._services.reset()
        return _no_content()

    async def loadFixtures(self, body: Any = None) -> Any:
        document = body
        if isinstance(body, bytes | str):  # a YAML body arrives raw (Connexion parses only JSON)
            try:
                document = read_yaml(body)
            except yaml.YAMLError as exc:
                raise ApiError(400, f"fixtures are not valid YAML: {exc}") from None
        # A file may be empty on purpose; an empty body is a mistake (a missing file under `curl --data-binary @`)
        # that would wipe every record and the fixtures a reset goes back to.
        if document is None or document == {}:
            *others, last = section_names()
            raise ApiError(400, "The fixtures document is empty: send a mapping with at least one of the sections "
                                f"{', '.join(others)} or {last}. Nothing was changed.")
        try:
            fixtures = parse_fixtures(document, source="request body")
        except FixturesError as exc:
            raise ApiError(400, str(exc)) from None
        if fixtures == Fixtures():  # sections, but nothing in them (each one `{}`): as empty as `{}`
            raise ApiError(400, "The fixtures document defines no record or credential in any of its sections, so it "
                                "would empty every API: send at least one. Nothing was changed.")
        self._services.reset(fixtures)
        return _no_content()

    async def getApis(self) -> Any:
        return _json({"apis": [
            {"name": api.name, "label": api.label, "title": api.title, "docs": f"/docs/{api.name}/",
             "spec": f"/openapi/{api.name}.json", "page": dataclasses.asdict(api.page) if api.page else None}
            for api in registry()
        ]})

    async def getState(self) -> Any:
        services = self._services
        now = services.clock.time()
        state: dict[str, Any] = {api.name: api.state(services.service_of(api), now) for api in registry()}
        state["files"] = len(services.store.blobs)
        return _json(state)

    async def getRateLimits(self) -> Any:
        services = self._services
        limits: dict[str, Any] = {api.name: api.rate_limits(services.service_of(api))
                                  for api in registry() if api.rate_limits is not None}
        limits["operations"] = {
            name: {"limit": setting.limit, "window": setting.window, "key": setting.key, "strategy": setting.strategy}
            for name, setting in services.settings.operation_limits.items()
        }
        return _json(limits)

    async def getJournal(self, api: str | None = None, operation: str | None = None, status: int | None = None,
                         method: str | None = None, since: float | None = None, until: float | None = None,
                         limit: int | None = None) -> Any:
        entries = self._services.journal.query(api=api, operation=operation, status=status, method=method,
                                               since=since, until=until, limit=limit)
        return _json({"entries": [entry.as_dict() for entry in entries]})

    async def getViolations(self) -> Any:
        return _json(self._services.violations.summary())

    async def clearJournal(self) -> Any:
        self._services.journal.clear()
        return _no_content()


class AdminTokenMiddleware:
    """When `admin.token` is set, every admin request (the spec and Swagger UI too) must present it as a bearer
    token."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self.services.settings.admin.token
        if scope["type"] == "http" and token is not None:
            # Whitespace around a field value is not part of it (RFC 9110 5.5); not every server strips it.
            given = bearer_token(Headers(scope=scope).get("authorization", "").strip()) or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise ApiError(401, "The admin API needs 'Authorization: Bearer <admin.token>'.",
                               headers={"WWW-Authenticate": "Bearer"})
        await self.app(scope, receive, send)


class PreflightedOnlyMiddleware:
    """A state-changing admin request must be one a browser sends cross-site only after a CORS preflight.

    Web pages the developer visits can reach a mock on loopback; without CORS on the admin API their preflights
    fail, so what must be refused is what a page may send without one: a POST (or a form) with a safelisted
    Content-Type or none, and no custom header. PUT, PATCH and DELETE are always preflighted, but they follow the
    same rule, so there is one rule to learn and no method that depends on the browser getting CORS right.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Headers(scope=scope)
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if CUSTOM_HEADER not in headers and media_type in CORS_SAFELISTED_TYPES:
                raise ApiError(403, f"State-changing admin requests need a JSON (or YAML) body or an "
                                    f"'{CUSTOM_HEADER_NAME}: 1' header, so that no web page can send them cross-site; "
                                    f"this one has {f'Content-Type {media_type}' if media_type else 'neither'}.")
        await self.app(scope, receive, send)


def _json(body: Any) -> ConnexionResponse:
    # The admin spec documents problem+json beside JSON, so Connexion needs the type said outright.
    return ConnexionResponse(status_code=200, body=json.dumps(body), content_type="application/json")


def _no_content() -> ConnexionResponse:
    return ConnexionResponse(status_code=204, body=b"", content_type=None)
