"""The fast path: a valid request to a JSON or body-less operation, answered without Connexion's machinery.

Connexion does much of its work anew for every request (it re-decorates the handler, passes the request through
some fifteen middleware layers, builds validators), and the profile in `bench/README.md` puts most of the CPU
time of a one-item refresh there. Here the route table, the compiled validators and the security checks are built
once, at startup, and a request that passes them all goes straight to the operation's handler.

The fast path only ever answers a request it can serve exactly as the Connexion app would: one whose path,
parameters, credential and body (JSON, or a multipart form read by the same `read_form` Connexion's validator
uses) are valid, and that asks for nothing Connexion's middleware provides (`Prefer`,
CORS, injected faults, extra operation limits). Any other request goes to the Connexion app untouched, its body
replayed, before anything has been stored, so every error before the handler keeps its one implementation
there. Errors the handler raises are rendered by the same function Connexion's error handler uses.
`tests/mockserver/web/test_fastpath.py` checks that both paths answer alike.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from connexion.json_schema import Draft4ResponseValidator, format_error_with_path
from connexion.jsonifier import JSONEncoder
from connexion.lifecycle import ConnexionResponse
from connexion.uri_parsing import OpenAPIURIParser
from connexion.utils import is_null, is_nullable, make_type
from jsonschema import ValidationError  # type: ignore[import-untyped]
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.apis import Api
from mockserver.apis.base import Handler, Reply
from mockserver.errors import ApiError, StoreUnavailable
from mockserver.openapi import resolve_refs, route_table
from mockserver.services import Services
from mockserver.settings import Settings
from mockserver.web.bodylimit import replay
from mockserver.web.controls import ROUTING
from mockserver.web.errors import error_response, send_response, store_unavailable, unexpected_error
from mockserver.web.handlers import Handlers, wants_base_url
from mockserver.web.security import Check, bearer_token, credential_check
from mockserver.web.validation import (
    CANONICAL_INTEGER,
    CompiledSchema,
    ParameterSchemaValidator,
    ParsedForm,
    RequestValidator,
    compiled,
    parse_json_body,
    read_form,
    resolve_form_field,
)

JSON = "application/json"
MULTIPART = "multipart/form-data"
# The one spelling of a multipart Content-Type taken here (RFC 2046 boundary characters, unquoted); any other
# goes through Connexion's content negotiation.
MULTIPART_TYPE = re.compile(rb"multipart/form-data; ?boundary=[0-9A-Za-z'()+_,./:=?-]{1,70}")
# The Content-Type values a JSON body may come with here; any other goes through Connexion's content negotiation.
JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8",
                        b"application/json; charset=UTF-8"})
# Headers asking for what only Connexion's middleware does: Prefer (controls), Origin (CORS), and framings and
# encodings the fast path does not read.
SLOW_HEADERS = frozenset({b"prefer", b"origin", b"transfer-encoding", b"content-encoding", b"expect"})
# What the CORS middleware adds to a response to a request without Origin (responses vary by Origin).
VARY = (b"vary", b"Origin")
JSON_CONTENT_TYPE = (b"content-type", JSON.encode())
ENCODER = JSONEncoder()
SEEN_MAX = 4096
# Longer digit strings than any id of these APIs (int() refuses beyond 4,300 digits): Connexion decides.
MAX_INTEGER_DIGITS = 100
_INVALID = object()
_UNSEEN = object()


class _Fallback(Exception):
    """The request is not one the fast path answers: hand it to Connexion."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PathParameter:
    """A path parameter: its schema, and whether it is an integer (converted as Connexion converts it)."""

    name: str
    schema: CompiledSchema
    integer: bool
    # Clients send the same few chains, contracts and ids over and over: remember what each value parsed to.
    seen: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def parse(self, value: str) -> Any:
        """The value as the handler takes it, or `_Fallback` when the schema rejects it."""
        typed = self.seen.get(value, _UNSEEN)
        if typed is _UNSEEN:
            typed = self._parse(value)
            if len(self.seen) >= SEEN_MAX:
                self.seen.clear()
            self.seen[value] = typed
        if typed is _INVALID:
            raise _Fallback
        return typed

    def _parse(self, value: str) -> Any:
        if self.integer and (not CANONICAL_INTEGER.fullmatch(value) or len(value) > MAX_INTEGER_DIGITS):
            return _INVALID
        typed = int(value) if self.integer else value
        return typed if self.schema.is_valid(typed) else _INVALID


@dataclasses.dataclass(frozen=True, kw_only=True)
class Credential:
    """Where an operation's credential travels: a named header (apiKey) or `Authorization: Bearer`."""

    header: bytes
    bearer: bool
    check: Check


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResponseSpec:
    """What `validate_responses` checks of one documented status: the JSON body's schema and required headers."""

    schema: CompiledSchema | None
    required_headers: frozenset[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FormBody:
    """A multipart body's schema, and how Connexion turns a valid form into the handler's arguments."""

    schema: dict[str, Any]
    validator: CompiledSchema
    uri_parser: OpenAPIURIParser
    properties: Mapping[str, Mapping[str, Any]]

    async def read(self, headers: Headers, body: bytes) -> ParsedForm:
        """The form, read and checked as `MultipartBodyValidator` reads it; `_Fallback` when it is not valid."""

        async def stream() -> AsyncIterator[bytes]:
            yield body

        form = await read_form(headers, stream(), self.schema,
                               functools.partial(resolve_form_field, self.uri_parser))
        if not self.validator.is_valid(form.data):
            await form.close()
            raise _Fallback
        return form

    def arguments(self, form: ParsedForm) -> dict[str, Any]:
        """`body` (the text fields, typed) and one argument per file field, as Connexion's parameter decorator
        passes them."""
        default = self.schema.get("default")
        body = copy.deepcopy(default) if default else {}  # a form's schema seldom has one: no deepcopy of {}
        body.update({key: value for key, value in form.data.items() if key not in form.files})
        kwargs: dict[str, Any] = {"body": {key: _typed(value, self.properties[key]) for key, value in body.items()}}
        for key, uploads in form.files.items():
            kwargs[key] = uploads if self.properties[key].get("type") == "array" else uploads[0]
        return kwargs


def _typed(value: Any, schema: Mapping[str, Any]) -> Any:
    """A form value cast to its property's type, as Connexion casts it for the handler."""
    if is_nullable(schema) and is_null(value):
        return None
    if schema["type"] == "array":
        items = schema["items"]
        return [make_type(part, items["type"], items.get("format")) for part in value]
    return make_type(value, schema["type"], schema.get("format"))


def _form_body(spec: Mapping[str, Any], parameters: list[dict[str, Any]], definition: Mapping[str, Any]
               ) -> FormBody | None:
    """A multipart operation's form, or None when its schema asks for what only Connexion does (extra fields,
    untyped properties)."""
    definition = resolve_refs(spec, definition)
    schema = definition["schema"]
    properties = schema.get("properties", {})
    typed = all("type" in prop and (prop["type"] != "array" or "type" in prop.get("items", {}))
                for prop in properties.values())
    if schema.get("type") != "object" or schema.get("additionalProperties", True) is not False or not typed:
        return None
    return FormBody(schema=schema, validator=compiled(schema, RequestValidator),
                    uri_parser=OpenAPIURIParser(parameters, definition), properties=properties)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Route:
    """One operation as the fast path serves it, compiled from the spec."""

    api: Api[Any]
    operation_id: str
    pattern: re.Pattern[str]
    parameters: tuple[PathParameter, ...]
    has_query: bool
    query_defaults: Mapping[str, Any]
    credential: Credential | None
    body: CompiledSchema | None  # the JSON body's schema; None: the operation takes no JSON body
    form: FormBody | None = None  # a multipart body
    handler: Handler
    wants_base_url: bool
    responses: Mapping[int, ResponseSpec]
    literal_segments: int  # OpenAPI: a concrete path wins over a templated one that also matches


def compile_routes(api: Api[Any], spec: Mapping[str, Any], handlers: Handlers, services: Services
                   ) -> dict[str, list[Route]]:
    """The operations of one API the fast path can serve, by HTTP method: those with no body, a JSON body or a
    multipart form body (and only one of them)."""
    routes: dict[str, list[Route]] = {}
    schemes = spec.get("components", {}).get("securitySchemes", {})
    paths = spec.get("paths", {})
    for path_route in route_table(api.spec_file).paths:
        item = paths[path_route.path]
        for method, operation in path_route.operations.items():
            if "operationId" not in operation:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if content and set(content) not in ({JSON}, {MULTIPART}):
                continue
            parameters = [resolve_refs(spec, p) for p in [*item.get("parameters", []),
                                                          *operation.get("parameters", [])]]
            if any(p["in"] not in ("path", "query") for p in parameters):
                continue
            form = _form_body(spec, parameters, content[MULTIPART]) if MULTIPART in content else None
            if MULTIPART in content and form is None:
                continue
            handler = handlers.handler(api.name, operation["operationId"])
            # Resolved in the served spec, which carries the configured limits.
            body_schema = resolve_refs(spec, content[JSON]["schema"]) if JSON in content else None
            routes.setdefault(method, []).append(Route(
                api=api,
                operation_id=operation["operationId"],
                pattern=path_route.pattern,
                parameters=tuple(_path_parameter(name, schema) for name, schema in path_route.parameters),
                has_query=any(p["in"] == "query" for p in parameters),
                query_defaults={p["name"]: p["schema"]["default"] for p in parameters
                                if p["in"] == "query" and "default" in p.get("schema", {})},
                credential=_credential(api, spec, operation, schemes, services),
                body=compiled(body_schema, RequestValidator) if body_schema is not None else None,
                form=form,
                handler=handler,
                wants_base_url=wants_base_url(handler),
                responses=_responses(spec, operation),
                literal_segments=path_route.literal_segments,
            ))
    return routes


def _path_parameter(name: str, schema: dict[str, Any]) -> PathParameter:
    return PathParameter(name=name, schema=compiled(schema, ParameterSchemaValidator),
                         integer=schema.get("type") == "integer")


def _credential(api: Api[Any], spec: Mapping[str, Any], operation: Mapping[str, Any],
                schemes: Mapping[str, Any], services: Services) -> Credential | None:
    requirements = operation.get("security", spec.get("security", []))
    if not requirements:
        return None
    if len(requirements) != 1 or len(requirements[0]) != 1:
        raise ValueError(f"{api.name} {operation['operationId']}: the fast path takes one security scheme")
    scheme = schemes[next(iter(requirements[0]))]
    check = credential_check(api, services)
    if scheme["type"] == "apiKey" and scheme["in"] == "header":
        return Credential(header=scheme["name"].lower().encode(), bearer=False, check=check)
    if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
        return Credential(header=b"authorization", bearer=True, check=check)
    raise ValueError(f"{api.name} {operation['operationId']}: no fast path for security {scheme}")


def _responses(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> dict[int, ResponseSpec]:
    responses = {}
    for status, response in operation.get("responses", {}).items():
        if not str(status).isdigit():
            continue
        response = resolve_refs(spec, response)
        schema = response.get("content", {}).get(JSON, {}).get("schema")
        responses[int(status)] = ResponseSpec(
            schema=compiled(schema, Draft4ResponseValidator) if schema is not None else None,
            required_headers=frozenset(name.lower() for name, header in response.get("headers", {}).items()
                                       if header.get("required")),
        )
    return responses


class FastPath:
    """ASGI middleware in front of the Connexion apps: answers what it can (see the module), passes the rest on."""

    def __init__(self, app: ASGIApp, services: Services, routes: Mapping[str, list[Route]], *,
                 json_cap: int, body_cap: Callable[[str, str], int]) -> None:
        """`body_cap(method, path)`: the most bytes Connexion's body cap lets through (the upload caps)."""
        self.app = app
        self.services = services
        self.routes = {method: sorted(candidates, key=lambda route: -route.literal_segments)
                       for method, candidates in routes.items()}
        self.json_cap = json_cap
        self.body_cap = body_cap
        self._settings: Settings | None = None
        self._slow_operations: frozenset[tuple[str, str]] = frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route, match = self._route(scope)
        if route is None or match is None:
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        form: ParsedForm | None = None
        try:
            try:
                headers = self._headers(scope, route)
                kwargs = self._arguments(scope, route, match, headers)
                if route.body is not None:
                    body = await _read_body(receive, received, headers, JSON_TYPES.__contains__, self.json_cap)
                    kwargs["body"] = _parse_json(body, route.body)
                elif route.form is not None:
                    form = await route.form.read(Headers(raw=scope["headers"]),
                                                 await self._read_form_body(scope, receive, received, headers))
                    kwargs.update(route.form.arguments(form))
                # As web/storecheck.py does for Connexion's apps (a public read is served from a store Redis lost).
                self.services.store.ensure_loaded()
            except StoreUnavailable as exc:  # here or while checking the credential: once is enough to wait
                await send_response(send, error_response(scope["path"], store_unavailable(exc)))
                return
            except Exception:  # not one to answer here (or a surprise): Connexion gets it as it came
                if form is not None:
                    await form.close()
                    form = None
                await self.app(scope, replay(received, receive), send)
                return
            scope.setdefault("extensions", {})[ROUTING] = {"operation_id": route.operation_id}
            await self._respond(scope, send, route, kwargs)
        finally:
            if form is not None:
                await form.close()

    async def _read_form_body(self, scope: Scope, receive: Receive, received: list[Message],
                              headers: Mapping[bytes, bytes]) -> bytes:
        """A multipart body small enough that Connexion's path would neither refuse it (the body cap) nor make it
        wait for a large-body slot."""
        cap = min(self.body_cap(scope["method"], scope["path"]), self.json_cap,
                  self.services.settings.clients.large_body_bytes)
        return await _read_body(receive, received, headers, _is_multipart_type, cap)

    def _route(self, scope: Scope) -> tuple[Route | None, re.Match[str] | None]:
        if scope["type"] != "http":
            return None, None
        path = scope["path"]
        for route in self.routes.get(scope["method"], ()):
            match = route.pattern.match(path)
            if match is not None:
                return route, match
        return None, None

    def _headers(self, scope: Scope, route: Route) -> dict[bytes, bytes]:
        raw = scope["headers"]
        headers = dict(raw)
        # A repeated header is read by the first or the last occurrence depending on who reads it: leave it to
        # Connexion rather than guess.
        if len(headers) != len(raw) or not SLOW_HEADERS.isdisjoint(headers):
            raise _Fallback
        if (route.api.name, route.operation_id) in self._slow():
            raise _Fallback
        return headers

    def _slow(self) -> frozenset[tuple[str, str]]:
        """The operations whose injected faults or extra limits need Connexion's middleware, under the settings
        in force (the admin API can change them at any time)."""
        settings = self.services.settings
        if settings is not self._settings:
            self._slow_operations = frozenset(
                (route.api.name, route.operation_id) for routes in self.routes.values() for route in routes
                if settings.faults.for_operation(route.api.name, route.operation_id).active
                or self.services.operation_limiter(route.api.name, route.operation_id) is not None
            )
            self._settings = settings
        return self._slow_operations

    def _arguments(self, scope: Scope, route: Route, match: re.Match[str],
                   headers: Mapping[bytes, bytes]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for parameter, value in zip(route.parameters, match.groups(), strict=True):
            kwargs[parameter.name] = parameter.parse(value)
        if route.has_query:
            if scope.get("query_string"):
                raise _Fallback  # query parameters are Connexion's to parse
            kwargs.update(route.query_defaults)
        if route.credential is not None:
            kwargs["token_info"] = _authenticate(route.credential, headers)
        if route.body is None and route.form is None and (headers.get(b"content-length", b"0") != b"0"):
            raise _Fallback  # a body where none belongs
        if route.wants_base_url:
            kwargs["base_url"] = str(HTTPConnection(scope).base_url)
        return kwargs

    async def _respond(self, scope: Scope, send: Send, route: Route, kwargs: dict[str, Any]) -> None:
        try:
            returned = await route.handler(**kwargs)
            if isinstance(returned, Reply):
                if self.services.settings.validate_responses:
                    _check_response(route, returned.status, returned.body if returned.content_type == JSON else None,
                                    {})
                await self._reply(send, returned)
                return
            status, payload, headers = _result(returned)
            if self.services.settings.validate_responses:
                _check_response(route, status, payload, headers)
        except ApiError as error:
            await send_response(send, error_response(scope["path"], error))
            return
        except Exception as exc:
            await send_response(send, error_response(scope["path"], unexpected_error(scope, exc)))
            return
        # Header order as Starlette writes them: the handler's, then Content-Type and -Length, then CORS's Vary.
        raw = [(_RAW_HEADER_NAMES.get(name) or _raw_header_name(name), value.encode("latin-1"))
               for name, value in headers.items()]
        raw += [JSON_CONTENT_TYPE, (b"content-length", str(len(payload)).encode()), VARY]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})

    async def _reply(self, send: Send, reply: Reply) -> None:
        """A response the handler shaped itself, with the headers Connexion sends for it."""
        raw = [(b"content-type", reply.content_type.encode("latin-1"))] if reply.content_type is not None else []
        raw += [(b"content-length", str(len(reply.body)).encode()), VARY]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        await send({"type": "http.response.body", "body": reply.body})


# Handlers send the same few header names: each is lowered and encoded once, not per response (ir.sh: with the
# header dict no longer copied, 4.6k fewer instructions per 1-item refresh).
_RAW_HEADER_NAMES: dict[str, bytes] = {}


def _raw_header_name(name: str) -> bytes:
    """A response header's name as Starlette writes it (lower case, Latin-1), remembered."""
    if len(_RAW_HEADER_NAMES) >= SEEN_MAX:
        _RAW_HEADER_NAMES.clear()
    raw = _RAW_HEADER_NAMES[name] = name.lower().encode("latin-1")
    return raw


def _authenticate(credential: Credential, headers: Mapping[bytes, bytes]) -> Any:
    value = headers.get(credential.header)
    if not value:
        raise _Fallback
    text = value.decode("latin-1")
    if credential.bearer:
        token = bearer_token(text)
        if token is None:
            raise _Fallback
        text = token
    try:
        return credential.check(text)
    except ApiError:
        raise _Fallback from None  # Connexion asks again and renders the 401 as it always does


def _is_multipart_type(content_type: bytes | None) -> bool:
    return content_type is not None and MULTIPART_TYPE.fullmatch(content_type) is not None


async def _read_body(receive: Receive, received: list[Message], headers: Mapping[bytes, bytes],
                     content_type_ok: Callable[[bytes | None], bool], cap: int) -> bytes:
    """The whole body, every message kept in `received` so that Connexion can be handed them all again."""
    if not content_type_ok(headers.get(b"content-type")):
        raise _Fallback
    length = headers.get(b"content-length", b"")
    if not length.isdigit() or int(length) > cap:  # bytes.isdigit: ASCII digits only
        raise _Fallback  # no length (chunked) or over the cap: the body-limit middleware knows what to say
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            raise _Fallback  # the client went away: Connexion answers that as always
        if not message.get("more_body", False):
            if len(received) == 1:  # as nearly every body comes: its bytes as they are, no generator and join
                body: bytes = message.get("body", b"")
                return body
            return b"".join(m.get("body", b"") for m in received)


def _parse_json(body: bytes, schema: CompiledSchema) -> Any:
    parsed = parse_json_body(body)  # its ApiError sends the request to Connexion, which words it
    if not isinstance(parsed, dict) or not schema.is_valid(parsed):
        raise _Fallback
    return parsed


def _result(returned: Any) -> tuple[int, bytes, dict[str, str]]:
    """A handler's return value (a body; a body and status; or body, status and headers) as Connexion sends it."""
    if isinstance(returned, ConnexionResponse):
        raise TypeError("handlers of fast-path operations return bodies, not responses")
    status, headers = 200, {}
    if isinstance(returned, tuple):
        returned, status, *rest = returned
        if rest:  # from here on the headers are only read: a handler's dict needs no copy
            headers = rest[0] if type(rest[0]) is dict else dict(rest[0])
    # Byte for byte what Connexion's default JSON serializer writes (its encoder also takes dates and UUIDs,
    # which a fixtures file can hold).
    return status, (ENCODER.encode(returned) + "\n").encode(), headers


def _check_response(route: Route, status: int, payload: bytes | None, headers: Mapping[str, str]) -> None:
    """What Connexion's response validation checks: required headers and the body's schema (of a JSON body;
    `payload` None: not JSON, so only the headers)."""
    spec = route.responses.get(status)
    if spec is None:
        return
    missing = spec.required_headers - {name.lower() for name in headers}
    if missing:
        raise ApiError(500, "Keys in response header don't match response specification. Difference: "
                            f"{', '.join(sorted(missing))}")
    if spec.schema is not None and payload is not None:
        body = json.loads(payload)
        if not spec.schema.is_valid(body):
            try:
                spec.schema.validate(body)
            except ValidationError as exc:  # worded as Connexion's response validation words it
                raise ApiError(500, "Response body does not conform to specification. "
                                    f"{exc.message}{format_error_with_path(exc)}") from None

