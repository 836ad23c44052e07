"""The single-exchange rules: what one request and its response must satisfy, derived from the specs alone.

Nothing here knows an API by name: operations, statuses, media types, schemas, error shapes and rate-limit
headers are all read from the OpenAPI documents in `specs/`, and openapi-core does the schema validation.

- `documented-operation`: the method and path are an operation of the spec whose paths they fall under.
- `request-schema`: the request's parameters and body are valid for the operation.
- `documented-status`: the response's status is documented for the operation.
- `documented-content-type`: a response with a body has a media type documented for its status.
- `response-schema`: a success response's body and headers are valid for its status.
- `error-shape`: an error's body is the API's error shape: the schema documented for that status, or for a
  status the operation does not document, one of the error schemas it does (codes and other enums aside).
- `documented-headers`: every header documented for the response is present.
- `rate-limit-coherent`: the documented rate-limit headers agree: counts are whole numbers, none negative,
  what remains is at most the limit, and a reset is a time or a number of seconds.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.validators import V30RequestBodyValidator, V30RequestParametersValidator
from openapi_core.validation.response.exceptions import DataValidationError, MissingData
from openapi_core.validation.response.validators import V30ResponseDataValidator, V30ResponseHeadersValidator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.datastructures import Headers, MultiDict

from conformance._specs import ApiName, load_spec
from conformance.apis import API_NAMES
from conformance.results import RuleSource
from conformance.schema_checks import schema_rule_source
from conformance.schema_hooks import TYPED_TEXT_DESERIALIZERS, multipart_as_a_server_reads_it

RULES: dict[str, str] = {
    "documented-operation": "the method and path are an operation of the spec",
    "request-schema": "the request's parameters and body are valid for the operation",
    "documented-status": "the response's status is documented for the operation",
    "documented-content-type": "a response body's media type is documented for its status",
    "response-schema": "a success response's body and headers are valid for its status",
    "error-shape": "an error's body is in the API's error shape",
    "documented-headers": "every header documented for the response is present",
    "rate-limit-coherent": "rate-limit headers agree: whole counts, none negative, remaining <= limit, reset a time",
}
# openapi-core matches the request's host against `servers`; any host does once it is the only server.
_HOST = "http://traffic.invalid"
_SPEC_URI = "urn:traffic-spec"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule as a report names it: its name, what it asks, whose words it rests on and where they are."""

    name: str
    description: str
    source: RuleSource
    cite: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Violation:
    """One rule one exchange broke."""

    api: ApiName
    # The operationId, or `METHOD path` for a request that matches no operation.
    operation: str
    rule: Rule
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"api": self.api, "operation": self.operation, "rule": self.rule.name, "message": self.message,
                "source": self.rule.source.value, "cite": self.rule.cite}


@dataclasses.dataclass(frozen=True, kw_only=True)
class HttpExchange:
    """One request as it was sent and the response as it came back (headers in wire order, bodies whole)."""

    method: str
    path: str
    query: str = ""
    request_headers: Sequence[tuple[str, str]] = ()
    request_body: bytes = b""
    status: int
    response_headers: Sequence[tuple[str, str]] = ()
    response_body: bytes = b""

    def request_header(self, name: str) -> str:
        return _header(self.request_headers, name)

    def response_header(self, name: str) -> str:
        return _header(self.response_headers, name)

    @property
    def preflight(self) -> bool:
        """Whether this is a browser's CORS preflight (`OPTIONS` asking `Access-Control-Request-Method`): the
        browser's question before a call, not a call of the API, so no rule of its spec applies."""
        return self.method.upper() == "OPTIONS" and bool(self.request_header("Access-Control-Request-Method"))


def _header(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name.lower()), "")


class TrafficChecker:
    """The rules for every API of `specs/`; each exchange is checked by the API whose paths it falls under."""

    def __init__(self, apis: Iterable[ApiName] = API_NAMES) -> None:
        self._rules = [ApiRules(api) for api in apis]

    def api_of(self, path: str) -> ApiRules | None:
        return next((rules for rules in self._rules if rules.owns(path)), None)

    def operation_of(self, method: str, path: str) -> str | None:
        """The operationId a request is for, if it is one of a spec's."""
        found = self.find(method, path)
        return None if found is None else found[1]

    def find(self, method: str, path: str) -> tuple[ApiName, str, str] | None:
        """The API, operationId and path template a request is for, if it is one of a spec's."""
        rules = self.api_of(path)
        return None if rules is None else rules.find(method, path)

    def check(self, exchange: HttpExchange) -> list[Violation]:
        """The violations of one exchange; none for a path outside every API (the mock's own, say) or a CORS
        preflight."""
        rules = self.api_of(exchange.path)
        return [] if rules is None or exchange.preflight else rules.check(exchange)


class ApiRules:
    """The single-exchange rules of one API's spec."""

    def __init__(self, api: ApiName) -> None:
        self.api = api
        spec = load_spec(api)
        self._spec = spec
        local = multipart_as_a_server_reads_it({**spec, "servers": [{"url": _HOST}]})
        self._schema_path = SchemaPath.from_dict(local)
        self._finder = APICallPathFinder(self._schema_path)
        self._validators = {
            kind: OpenAPI.from_dict(local, config=Config(
                request_validator_cls=validator if kind.startswith("request") else V30RequestParametersValidator,
                response_validator_cls=validator if kind.startswith("response") else V30ResponseDataValidator,
                extra_media_type_deserializers=TYPED_TEXT_DESERIALIZERS,
            ))
            for kind, validator in (
                ("request-parameters", V30RequestParametersValidator), ("request-body", V30RequestBodyValidator),
                ("response-data", V30ResponseDataValidator), ("response-headers", V30ResponseHeadersValidator),
            )
        }
        # Literal prefix of every path template: how traffic is told apart between APIs.
        self._prefixes = tuple(path.split("{", 1)[0] for path in spec["paths"])

    def owns(self, path: str) -> bool:
        return path.startswith(self._prefixes)

    def find(self, method: str, path: str) -> tuple[ApiName, str, str] | None:
        try:
            found = self._finder.find("get" if method.upper() == "HEAD" else method.lower(), _HOST + path)
        except PathError:
            return None
        return self.api, str(found.operation["operationId"]), str(found.path_result.pattern)

    def check(self, exchange: HttpExchange) -> list[Violation]:
        request = _Request(exchange)
        try:
            found = self._finder.find(request.method, _HOST + exchange.path)
        except PathError as error:
            where = f"{exchange.method.upper()} {exchange.path}"
            message = (f"{exchange.method.upper()} is not an operation of this path in specs/{self.api}.yaml"
                       if isinstance(error, OperationNotFound) else f"no path of specs/{self.api}.yaml matches")
            return [self._violation(where, "documented-operation", message)]
        operation_id = str(found.operation["operationId"])
        return list(self._check_operation(operation_id, found.operation, request, _Response(exchange)))

    def _check_operation(self, operation_id: str, operation: SchemaPath, request: _Request,
                         response: _Response) -> Iterator[Violation]:
        for kind in ("request-parameters", "request-body"):
            for error in self._validators[kind].iter_request_errors(request):
                yield self._violation(operation_id, "request-schema", _explain(error))
        status = response.status_code
        answer = _documented_response(operation, status)
        if answer is None:
            statuses = ", ".join(str(key) for key in operation["responses"].str_keys())
            yield self._violation(operation_id, "documented-status",
                                  f"status {status} is not documented (documented: {statuses})")
            if status >= 400 and not request.head:
                yield from self._error_shape(operation_id, operation, response)
            return
        body_errors = [] if request.head else list(
            self._validators["response-data"].iter_response_errors(request, response))
        for error in body_errors:
            cause = error.__cause__
            if isinstance(cause, MediaTypeNotFound):
                media = response.content_type or "none"
                yield self._violation(operation_id, "documented-content-type",
                                      f"Content-Type {media} is not documented for status {status} "
                                      f"(documented: {', '.join(cause.availableMimetypes)})")
            elif isinstance(error, MissingData) and not response.data:
                yield self._violation(operation_id, "response-schema" if status < 400 else "error-shape",
                                      f"the {status} response has no body; the spec documents one")
            elif isinstance(error, DataValidationError | ResponseNotFound):
                rule = "response-schema" if status < 400 else "error-shape"
                yield self._violation(operation_id, rule, f"body: {_explain(error)}")
        header_errors = list(self._validators["response-headers"].iter_response_errors(request, response))
        for error in header_errors:
            yield self._violation(operation_id, "response-schema", f"header: {_explain(error)}")
        yield from self._headers(operation_id, answer, response)

    def _error_shape(self, operation_id: str, operation: SchemaPath, response: _Response) -> Iterator[Violation]:
        """An error of a status the operation does not document: is it one of the shapes it does document?"""
        schemas = [schema for code, answer in operation["responses"].items() if str(code)[0] in "45"
                   if (schema := _content_schema(answer)) is not None]
        if not schemas:
            return
        status = response.status_code
        try:
            body = json.loads(response.data) if response.data else None
        except ValueError:
            yield self._violation(operation_id, "error-shape", f"the {status} body is not JSON", documented=False)
            return
        messages = []
        for schema in schemas:
            errors = list(self._relaxed_validator(schema).iter_errors(body))
            if not errors:
                return
            messages.append(_schema_message(errors[0]))
        yield self._violation(operation_id, "error-shape", f"the {status} body: {min(messages, key=len)}",
                              documented=False)

    def _headers(self, operation_id: str, answer: SchemaPath, response: _Response) -> Iterator[Violation]:
        names = [name for name in (answer / "headers").str_keys() if name.lower() != "content-type"] \
            if "headers" in answer else []
        missing = [name for name in names if name not in response.headers]
        if missing:
            yield self._violation(operation_id, "documented-headers",
                                  f"missing header{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        values = {name: response.headers[name] for name in names if name in response.headers}
        for message in rate_limit_problems(values):
            yield self._violation(operation_id, "rate-limit-coherent", message)

    @cached_property
    def _relaxed_registry(self) -> Registry[Any]:
        """The spec without `enum`s, for references to resolve in: the shape of an error, whatever its code."""
        relaxed = _without_enums(self._spec)
        resource: Resource[Any] = Resource.from_contents(relaxed, default_specification=DRAFT4)
        registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        return registry

    def _relaxed_validator(self, schema: Mapping[str, Any]) -> OAS30Validator:
        return OAS30Validator(_anchored(_without_enums(schema)), registry=self._relaxed_registry)

    def _violation(self, operation: str, rule: str, message: str, *, documented: bool = True) -> Violation:
        return Violation(api=self.api, operation=operation, rule=self.rule(operation, rule, documented=documented),
                         message=message)

    def rule(self, operation: str, name: str, *, documented: bool = True) -> Rule:
        """The rule `name` as it applies to `operation`, with whose words it rests on; `documented`: whether
        the status an error shape is judged for is one the operation documents."""
        if name == "rate-limit-coherent":
            source, where = RuleSource.PROJECT, (
                f"specs/{self.api}.yaml, {operation}: the response's documented rate-limit headers, read as "
                "BEHAVIOUR.md reads them (remaining <= limit, none negative, reset a time)")
        elif name == "error-shape" and not documented:
            source, where = RuleSource.PROJECT, (
                f"BEHAVIOUR.md, Everywhere: errors in the API's own shape, the error responses specs/{self.api}.yaml "
                f"documents for {operation}")
        elif name == "documented-operation":
            source, where = RuleSource.PROJECT, f"specs/{self.api}.yaml, paths"
        elif name == "request-schema":
            source, where = schema_rule_source(self.api, operation, "negative_data_rejection")
        else:
            source, where = schema_rule_source(self.api, operation, "response_schema_conformance")
        return Rule(name=name, description=RULES[name], source=source, cite=where)


def rate_limit_problems(headers: Mapping[str, str]) -> list[str]:
    """What is wrong among documented rate-limit headers, told apart by name as RFC 6585, the IETF RateLimit
    draft and the vendors name them: `*limit*`, `*remaining*`, `*reset*` and `Retry-After`."""
    problems: list[str] = []
    limit = remaining = None
    for name, value in headers.items():
        lowered = name.lower()
        if "reset" in lowered:
            if _as_time(value) is None:
                problems.append(f"{name}: {value!r} is neither a number of seconds nor a time")
            continue
        if lowered == "retry-after" and not value.strip().isdigit() and _http_date(value) is not None:
            continue  # RFC 9110 10.2.3: Retry-After is seconds or an HTTP date
        if "remaining" in lowered or "limit" in lowered or lowered == "retry-after":
            if not re.fullmatch(r"\d+", value.strip()):
                problems.append(f"{name}: {value!r} is not a whole number of at least 0")
                continue
            if "remaining" in lowered:
                remaining = (name, int(value))
            elif "limit" in lowered:
                limit = (name, int(value))
    if limit is not None and remaining is not None and remaining[1] > limit[1]:
        problems.append(f"{remaining[0]} {remaining[1]} is more than {limit[0]} {limit[1]}")
    return problems


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z")


def _as_time(value: str) -> object | None:
    """The reset as seconds, an HTTP date, an ISO 8601 time or Go's `2024-04-16 11:06:07.401553 +0000 UTC`."""
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if _http_date(text) is not None:
        return _http_date(text)
    without_zone_name = re.sub(r" [A-Z]{2,5}$", "", text)
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(without_zone_name, pattern)
        except ValueError:
            continue
    return None


def _documented_response(operation: SchemaPath, status: int) -> SchemaPath | None:
    """The response the operation documents for `status`: its own, its range's (`4XX`) or the default."""
    responses = operation / "responses"
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in responses:
            return responses / key
    return None


def _http_date(text: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _content_schema(answer: SchemaPath) -> dict[str, Any] | None:
    """The schema of the JSON content of a documented response, as written (a `$ref` stays one)."""
    if "content" not in answer:
        return None
    for media, content in (answer / "content").items():
        if "json" in str(media) and "schema" in content:
            with (content / "schema").resolve() as resolved:
                contents: dict[str, Any] = resolved.contents  # type: ignore[assignment]
                return contents
    return None


def _anchored(value: Any) -> Any:
    """A schema taken out of the spec, its local references pointing back into the spec."""
    if isinstance(value, dict):
        return {key: (_SPEC_URI + item if key == "$ref" and isinstance(item, str) and item.startswith("#")
                      else _anchored(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [_anchored(item) for item in value]
    return value


def _without_enums(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_enums(item) for key, item in value.items() if key != "enum"}
    if isinstance(value, list):
        return [_without_enums(item) for item in value]
    return value


def _schema_message(error: Any) -> str:
    """A JSON Schema error as `where: what`."""
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _explain(error: BaseException) -> str:
    """openapi-core's message, with the schema errors under it (they say which field is wrong)."""
    text = str(error)
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if details:
        return text.split(":", 1)[0] + ": " + "; ".join(_schema_message(detail) for detail in details[:3])
    if cause is not None and str(cause) and str(cause) not in text:
        text += f": {cause}"
    return text


class _Request:
    """An exchange's request as openapi-core reads one (its `Request` protocol)."""

    def __init__(self, exchange: HttpExchange) -> None:
        self.host_url = _HOST
        self.path = exchange.path
        # HEAD is GET without the body (RFC 9110 9.3.2): held to the GET operation, its body unchecked.
        self.head = exchange.method.upper() == "HEAD"
        self.method = "get" if self.head else exchange.method.lower()
        self.body = exchange.request_body or None
        self.content_type = exchange.request_header("content-type").lower()
        cookies = dict(parse_qsl(exchange.request_header("cookie").replace("; ", "&")))
        self.parameters = RequestParameters(
            query=MultiDict(parse_qsl(exchange.query, keep_blank_values=True)),
            header=Headers(list(exchange.request_headers)),
            cookie=MultiDict(cookies),
        )


class _Response:
    """An exchange's response as openapi-core reads one (its `Response` protocol)."""

    def __init__(self, exchange: HttpExchange) -> None:
        self.data = exchange.response_body
        self.status_code = exchange.status
        self.headers = Headers(list(exchange.response_headers))
        self.content_type = exchange.response_header("content-type")
