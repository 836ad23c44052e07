"""Schemathesis hooks that make generated requests meaningful for a live server.

Two problems with requests drawn from the schemas alone:

- Random path parameters name nothing, so nearly every request would be a 404 and never reach the server's
  logic. Most requests whose path is meant to be valid are pointed at a resource the target lists; the rest
  keep their random path and test the 404 handling.
- Some rules cannot be written in a schema (unique token ids, byte limits, "a bare name must be an uploaded
  file", a cursor must come from the server). A positive request that breaks one is not positive at all, so
  positive bodies are repaired or dropped before they are sent.

What is known and how each body is repaired is the API's (`ApiSuite` in `conformance/apis/<name>/`); this
module applies it, and judges writes on the wire, the same way for every API.

Negative parts of a request are never touched: they are what negative testing is about.

Without `--allow-destructive` a write must never succeed. Schemathesis' labels are not enough for that: its
fuzzing phase also yields cases it re-labels positive, and a "negative" multipart or path value is often valid
once serialised (the number 5 where a string is required is the text `5` on the wire). So each write case is
serialised the way it will be sent and validated against the spec with openapi-core; one that is valid on the
wire is not sent.

Choices are made from a CRC of the generated case, not from a random source, so one seed still gives one run.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Callable, Collection
from typing import Any, cast

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest
from openapi_core.util import BOOLEAN_FALSE_VALUES, BOOLEAN_TRUE_VALUES, forcebool
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
)
from schemathesis import Case, HookContext
from schemathesis.core.parameters import ParameterLocation

from conformance.apis.base import AnyCase, ApiSuite
from conformance.target_base import Target

# How often (out of 8) a positive path is replaced by a known resource; the rest test 404 handling.
_KNOWN_OUT_OF_8 = 6


def _stable(case: AnyCase, salt: str) -> int:
    """A number that depends only on what was generated, so choices repeat with the seed."""
    text = json.dumps([case.operation.label, case.path_parameters, salt], sort_keys=True, default=repr)
    return zlib.crc32(text.encode())


def _is_negative(case: AnyCase, location: ParameterLocation) -> bool:
    meta = case.meta
    return meta is not None and meta.is_negative_at(location)


class WireValidator:
    """Whether a case, serialised as it will be sent, satisfies its operation's parameters and request body.

    Credentials are left out: Schemathesis adds them at send time, and a missing one is not what makes a case
    safe to send.
    """

    # Any host will do: requests needs one to prepare a request, openapi-core matches it against `servers`.
    _HOST = "http://conformance.invalid"

    def __init__(self, spec: dict[str, Any]) -> None:
        local = multipart_as_a_server_reads_it({**spec, "servers": [{"url": self._HOST}]})
        self._validators = [
            OpenAPI.from_dict(
                local,
                config=Config(
                    request_validator_cls=validator,
                    extra_media_type_deserializers=TYPED_TEXT_DESERIALIZERS,
                ),
            )
            for validator in (V30RequestParametersValidator, V30RequestBodyValidator)
        ]

    def is_valid(self, case: AnyCase) -> bool:
        """True when the case, as sent, could be accepted; also when that cannot be told."""
        try:
            prepared = requests.Request(**case.as_transport_kwargs(base_url=self._HOST)).prepare()
            request = RequestsOpenAPIRequest(prepared)
            return all(next(iter(v.iter_request_errors(request)), None) is None for v in self._validators)
        except Exception:
            # openapi-core's own parsers give up on some bodies (a multipart part without a name asserts);
            # a server may still read such a body as a valid write, so it is not sent.
            return True


class CaseAdapter:
    """`map_case` and `filter_case` hooks for one API, fed by the target's known resources."""

    def __init__(
        self,
        suite: ApiSuite,
        target: Target,
        *,
        spec: dict[str, Any] | None = None,
        guarded_writes: Collection[str] = (),
    ) -> None:
        """`guarded_writes`: operation ids that must not be sent when valid on the wire (needs `spec`)."""
        self.suite = suite
        self.target = target
        self._file_fields = _multipart_file_fields(suite.spec())
        self.guarded_writes = frozenset(guarded_writes)
        self._wire = WireValidator(spec) if spec is not None and self.guarded_writes else None

    def install(self, schema: Any) -> None:
        """Register the hooks on `schema` only (never globally: several schemas may run in one process)."""

        # Schemathesis sets attributes on hook functions, which bound methods do not allow: wrap them.
        def map_case(context: HookContext, case: AnyCase) -> AnyCase:
            return self.map_case(context, case)

        def filter_case(context: HookContext, case: AnyCase) -> bool:
            return self.filter_case(context, case)

        schema.hook("map_case")(map_case)
        schema.hook("filter_case")(filter_case)

    def map_case(self, context: HookContext, case: AnyCase) -> AnyCase:
        self._repair(case)
        # Schemathesis re-derives a changed case's positive/negative labels by validating it again, and it
        # counts any body holding file bytes as invalid. Every repair keeps a part as valid as it was
        # generated, so the labels Schemathesis gave at generation stay right: take the changed case as the
        # starting state.
        case._record_starting_state()
        return case

    def _repair(self, case: AnyCase) -> None:
        """Point positive paths at known resources and repair positive bodies; each change reassigns a part."""
        operation_id = _operation_id(case)
        positive_path = not _is_negative(case, ParameterLocation.PATH) and bool(case.path_parameters)
        if positive_path and _stable(case, "known") % 8 < _KNOWN_OUT_OF_8:
            known = self.suite.known_path(self.target, case.path_parameters, _stable(case, "pick"))
            case.path_parameters = {**case.path_parameters, **known}
        server_issued = self.suite.server_issued_query.get(operation_id)
        if server_issued and not _is_negative(case, ParameterLocation.QUERY) and case.query:
            case.query = {k: v for k, v in case.query.items() if k not in server_issued}
        fixer = self.suite.body_repairs.get(operation_id)
        if (
            fixer is not None
            and isinstance(case.body, dict)
            and not _is_negative(case, ParameterLocation.BODY)
        ):
            fixer(case, self.target)
        self._label_file_parts(operation_id, case)

    def filter_case(self, context: HookContext, case: AnyCase) -> bool:
        operation_id = _operation_id(case)
        if self._wire is not None and operation_id in self.guarded_writes:
            # Schemathesis filters before it maps: judge the case as `map_case` will send it, on a copy with
            # its own metadata (edits to a case update the labels it shares with its copies).
            repaired = _detached_copy(case)
            self._repair(repaired)
            if self._wire.is_valid(repaired):
                return False
        body_filter = self.suite.body_filters.get(operation_id)
        if (
            body_filter is not None
            and isinstance(case.body, dict)
            and not _is_negative(case, ParameterLocation.BODY)
        ):
            return body_filter(cast(dict[str, Any], case.body))
        return True

    def _label_file_parts(self, operation_id: str, case: AnyCase) -> None:
        """Give every file part a media type, as real clients do (curl sends `application/octet-stream`).

        Schemathesis sends a file part without `Content-Type` unless one was chosen. RFC 7578 allows that, but
        some servers (Stoplight Prism 5) crash on it and every later request of the run then fails to connect,
        so one such part would hide everything else a run could find. A label changes no field's value, so a
        negative case stays exactly as negative.
        """
        if not isinstance(case.body, dict):
            return
        chosen = dict(case.multipart_content_types or {})
        unlabelled = [f for f in self._file_fields.get(operation_id, ()) if f in case.body and f not in chosen]
        if unlabelled:
            case.multipart_content_types = {**chosen, **dict.fromkeys(unlabelled, "application/octet-stream")}


def _multipart_file_fields(spec: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """operationId -> the multipart fields of its request body that carry files (`format: binary`)."""
    schemas = spec.get("components", {}).get("schemas", {})
    found: dict[str, tuple[str, ...]] = {}
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if media is None:
                continue
            schema = media["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            found[operation["operationId"]] = tuple(
                name
                for name, prop in schema.get("properties", {}).items()
                if "binary" in (prop.get("format"), prop.get("items", {}).get("format"))
            )
    return found


def _typed_text(parse: Callable[[str], Any]) -> Callable[..., Any]:
    """A media type deserializer reading a text part as a server reading its property's type does.

    Text that does not parse stays text, which then fails the property's type, as it would on the server.
    """

    def deserialize(value: bytes | str, **parameters: str) -> Any:
        text = value.decode(parameters.get("charset", "utf-8")) if isinstance(value, bytes) else value
        try:
            return parse(text)
        except ValueError:
            return text

    return deserialize


def _parse_boolean(text: str) -> bool:
    if text.lower() not in BOOLEAN_TRUE_VALUES + BOOLEAN_FALSE_VALUES:
        raise ValueError(text)
    return forcebool(text)


# openapi-core reads every text part of a form as a string (plain_loads) and never casts it to its
# property's type, so `total_value=10` would fail `type: number` and a write valid on the wire would be
# judged invalid and sent. Each primitive non-string property is given one of these media types instead,
# parsed with the same conversions openapi-core's casters apply to parameters (int, float, forcebool).
_TYPED_TEXT_MEDIA_TYPES = {
    "integer": "text/x-conformance-integer",
    "number": "text/x-conformance-number",
    "boolean": "text/x-conformance-boolean",
}
TYPED_TEXT_DESERIALIZERS: dict[str, Callable[..., Any]] = {
    _TYPED_TEXT_MEDIA_TYPES["integer"]: _typed_text(int),
    _TYPED_TEXT_MEDIA_TYPES["number"]: _typed_text(float),
    _TYPED_TEXT_MEDIA_TYPES["boolean"]: _typed_text(_parse_boolean),
}


def multipart_as_a_server_reads_it(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` whose multipart bodies openapi-core reads as a server following the spec would.

    - A text part of a number, integer or boolean property is that type (OpenAPI 3.0 `encoding`: a primitive
      property is sent as text/plain and means its schema's type), through `TYPED_TEXT_DESERIALIZERS`.
    - openapi-core treats every part of an array property as one item, so an array property encoded as one
      `application/json` part (a JSON array in one part) arrives as a list holding that array.
    Without either, a valid case would count as invalid on the wire, and be sent.
    `tests/conformance/test_schema_hooks.py` breaks if openapi-core changes.
    """
    spec = copy.deepcopy(spec)
    schemas = spec.get("components", {}).get("schemas", {})
    for item in spec["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            multipart = content.get("multipart/form-data")
            if multipart is None:
                continue
            schema = multipart["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            encodings = multipart.setdefault("encoding", {})
            for name, prop in schema.get("properties", {}).items():
                typed = _TYPED_TEXT_MEDIA_TYPES.get(prop.get("type"))
                if typed is not None and "contentType" not in encodings.get(name, {}):
                    encodings[name] = {**encodings.get(name, {}), "contentType": typed}
            for name, encoding in encodings.items():
                prop = schema.get("properties", {}).get(name)
                one_json_part = encoding.get("contentType") == "application/json"
                if prop is not None and prop.get("type") == "array" and one_json_part:
                    schema["properties"][name] = {"type": "array", "items": prop, "maxItems": 1}
    return spec


def _detached_copy(case: AnyCase) -> AnyCase:
    return Case(
        case.operation,
        case.method,
        case.path,
        id=case.id,
        path_parameters=dict(case.path_parameters),
        headers=case.headers.copy(),
        cookies=dict(case.cookies),
        query=dict(case.query),
        body=copy.deepcopy(case.body),
        media_type=case.media_type,
        multipart_content_types=case.multipart_content_types,
        meta=copy.deepcopy(case.meta),
    )


def _operation_id(case: AnyCase) -> str:
    return case.operation.schema.get_operation_id(case.operation) or ""
