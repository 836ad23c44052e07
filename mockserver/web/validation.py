"""Connexion's validators, made to name the field at fault and to answer malformed input with 400.

Out of the box Connexion answers a non-UTF-8 JSON body, a broken multipart body and a malformed JSON form
part with 500, lets a text part stand in for a file, and reports a schema error only as a sentence. These
subclasses raise `ApiError` instead, which each API renders in its own error shape.

Patterns are matched as OpenAPI means them (ECMA-262): `$` is the end of the string. Python's `$` also matches
before a final newline, which would let `"1\\n"` pass `^[0-9]+$`.
"""

from __future__ import annotations

import codecs
import copy
import dataclasses
import functools
import itertools
import json
import math
import re
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import TypeValidationError
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.utils import is_null, is_nullable
from connexion.validators import (
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    MultiPartFormDataValidator,
    TextResponseBodyValidator,
)
from connexion.validators import ParameterValidator as ConnexionParameterValidator
from jsonschema import Draft4Validator, ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Scope

from mockserver import compactjson
from mockserver.apis import api_for_path
from mockserver.errors import ApiError
from mockserver.openapi import route_table

UINT256_LIMIT = 2**256
# An integer path segment as the number it names is written: no `+`, no leading zeros, no `-0`.
CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
# No schema of the three APIs nests more than a few levels; far deeper JSON only exhausts the recursion of the
# parser or the validators (a 500), so it is refused up front.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
# A JSON body shorter than this is parsed in one call, without bounds of its array elements' sizes: a 1-item
# refresh costs less re-encoding its item than bounding it (bench/inprocess.py).
SIZED_BODY_LENGTH = 4096


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests arrays and objects more than `limit` levels deep."""
    # Level by level, one comprehension per level over all its containers' children (chained in C), rather than
    # a stack entry or a comprehension per container: the 250-item refresh has about a thousand containers.
    level: list[Any] = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(limit):
        children = itertools.chain.from_iterable([node.values() if isinstance(node, dict) else node
                                                  for node in level])
        level = [child for child in children if isinstance(child, _CONTAINERS)]
        if not level:
            return False
    return True


_CONTAINERS = (dict, list)  # a tuple: isinstance takes it faster than the union `dict | list`


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's `pattern` keyword with `$` anchored at the very end of the string."""
    if validator.is_type(instance, "string") and not re.search(_anchored(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _anchored(pattern: str) -> str:
    backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    if pattern.endswith("$") and backslashes % 2 == 0:
        return pattern[:-1] + r"\Z"
    return pattern


RequestValidator = extend(Draft4RequestValidator, {"pattern": _ecma_pattern})
ParameterSchemaValidator = extend(Draft4Validator, {"pattern": _ecma_pattern})


class CompiledSchema:
    """A schema compiled once: `jsonschema_rs` decides valid bodies fast, jsonschema explains invalid ones.

    The Rust validator sees a JSON Schema copy of the OpenAPI schema (`nullable` turned into a `null` type and
    enum member). It only ever answers "valid": whenever it says no, fails or could not compile the schema, the
    jsonschema validator (ECMA patterns, Connexion's nullable rules) decides and names the error as before.
    """

    def __init__(self, schema: dict[str, Any], cls: Any) -> None:
        self.slow = cls(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        self.fast: Any = None
        try:
            self.fast = jsonschema_rs.Draft4Validator(_json_schema(schema), validate_formats=True)
        except Exception:  # a schema the Rust crate cannot take simply goes the slow way
            self.fast = None

    def is_valid(self, instance: Any) -> bool:
        """Whether the instance is valid, without explaining why not."""
        if self.fast is not None:
            try:
                if self.fast.is_valid(instance):
                    return True
            except Exception:  # e.g. a value Rust cannot represent: ask jsonschema
                pass
        return bool(self.slow.is_valid(instance))

    def validate(self, instance: Any) -> None:
        """Raise jsonschema's `ValidationError` for an invalid instance."""
        if self.fast is not None:
            try:
                if self.fast.is_valid(instance):
                    return
            except Exception:  # e.g. a value Rust cannot represent: ask jsonschema
                pass
        self.slow.validate(instance)


def _json_schema(schema: dict[str, Any]) -> Any:
    """A deep copy of an OpenAPI 3.0 schema with `nullable: true` said in JSON Schema (a type and enum of null)."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: convert(value) for key, value in node.items()}
        if out.get("nullable") is True or out.get("x-nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = [*kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        return out

    return convert(copy.deepcopy(schema))


_COMPILED: dict[tuple[int, int], tuple[dict[str, Any], CompiledSchema]] = {}
_COMPILED_MAX = 2048


def compiled(schema: dict[str, Any], cls: Any) -> CompiledSchema:
    """The compiled validator of a schema, built on first use.

    Connexion builds its validators per request but hands them the same schema objects every time, so they are
    keyed by identity; each entry keeps its schema alive, so an id cannot be reused while its entry stands.
    """
    key = (id(schema), id(cls))
    entry = _COMPILED.get(key)
    if entry is not None and entry[0] is schema:
        return entry[1]
    if len(_COMPILED) >= _COMPILED_MAX:  # apps built and dropped (tests) must not grow this without bound
        _COMPILED.clear()
    result = CompiledSchema(schema, cls)
    _COMPILED[key] = (schema, result)
    return result


@functools.cache
def _is_uint256(pattern: str) -> bool:
    """Whether a pattern is the decimal-uint256 one, so its error can say so instead of quoting it."""
    anchored = _anchored(pattern)
    return all(bool(re.search(anchored, text)) is wanted for text, wanted in
               (("0", True), (str(UINT256_LIMIT - 1), True), (str(UINT256_LIMIT), False), ("01", False)))


def _short(value: Any, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def describe(error: ValidationError) -> str:
    """A schema error in one short sentence: no schema dump, no echo of a huge value."""
    if error.validator == "pattern":
        pattern = str(error.validator_value)
        if _is_uint256(pattern):
            return f"{_short(error.instance)} is not a decimal uint256 (0 <= n < 2^256, no leading zeros)"
        shown = pattern if len(pattern) <= 80 else "the required format"
        return f"{_short(error.instance)} does not match {shown}"
    if error.validator in ("maxItems", "minItems") and isinstance(error.instance, list):
        bound = "at most" if error.validator == "maxItems" else "at least"
        return f"{len(error.instance)} items given; {bound} {error.validator_value} allowed"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _field_path(error: ValidationError) -> str | None:
    return ".".join(str(part) for part in error.absolute_path) or None


def _schema_error(error: ValidationError, where: str) -> ApiError:
    field = _field_path(error)
    # A missing required property is reported on its parent; name the property itself.
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = error.message.split("'")[1] if "'" in error.message else None
        if missing:
            field = f"{field}.{missing}" if field else missing
    at = f" (at {field})" if field else ""
    return ApiError(400, f"Invalid {where}: {describe(error)}{at}.", field=field)


class ParameterValidator(ConnexionParameterValidator):  # type: ignore[misc]
    """Path, query and header parameters: ECMA patterns, and errors that name the parameter."""

    def validate_path_parameter(self, param: dict[str, Any], request: Any) -> None:
        # Routing has already turned an integer segment into an int, losing how it was written: check the segment.
        if param.get("schema", {}).get("type") == "integer":
            for name, raw, schema in path_values(request.scope["path"]):
                error = check_path_value(name, raw, schema) if name == param["name"] else None
                if error is not None:
                    raise error
        super().validate_path_parameter(param, request)

    @staticmethod
    def validate_parameter(parameter_type: str, value: Any, param: dict[str, Any],
                           param_name: str | None = None) -> None:
        name = param_name or param["name"]
        if is_nullable(param) and is_null(value):
            return
        if value is None:
            if param.get("required"):
                raise ApiError(400, f"Missing {parameter_type} parameter {name}.", field=name)
            return
        try:
            compiled(param.get("schema", param), ParameterSchemaValidator).validate(value)
        except ValidationError as exc:
            message = f"Invalid {parameter_type} parameter {name}: {describe(exc)}."
            raise ApiError(400, message, field=name) from None


def path_values(path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, raw value, schema) of each path parameter of every template of the API that `path` matches."""
    api = api_for_path(path)
    for route in route_table(api.spec_file).paths if api is not None else ():
        match = route.pattern.match(path)
        if match is not None:
            for value, (name, schema) in zip(match.groups(), route.parameters, strict=True):
                yield name, value, schema


def check_path_value(name: str, value: str, schema: dict[str, Any]) -> ApiError | None:
    """The 400 for a path segment breaking its parameter's schema (such as `abc` for an integer), or None."""
    typed: Any = value
    if schema.get("type") == "integer":
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            message = f"Invalid path parameter {name}: {_short(value)} is not an integer."
            return ApiError(400, message, field=name)
        digits = len(value.lstrip("+-"))
        if digits > sys.get_int_max_str_digits() > 0:  # Python refuses to convert it (a guard against slow int())
            return ApiError(400, f"Invalid path parameter {name}: a {digits}-digit number is larger than this "
                                 "server takes.", field=name)
        # One spelling per number: `+1` or `01` must not reach token 1 (Connexion's routing reads both as 1).
        if not CANONICAL_INTEGER.fullmatch(value):
            return ApiError(400, f"Invalid path parameter {name}: {_short(value)} is not in plain decimal form "
                                 "(digits only, without a sign or leading zeros).", field=name)
        typed = int(value)
    try:
        compiled(schema, ParameterSchemaValidator).validate(typed)
    except ValidationError as exc:
        return ApiError(400, f"Invalid path parameter {name}: {describe(exc)}.", field=name)
    return None


def _reject_constant(name: str) -> Any:
    raise ApiError(400, f"Request body is not valid JSON: {name} is not a JSON value.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(400, f"Request body holds the number {_short(text, 40)}, which is out of range.")
    return value


def _integer_too_long(exc: ValueError, what: str, *, field: str | None = None) -> Exception:
    """The 400 for JSON holding a number of more digits than `int()` takes (4,300 by default), the one
    ValueError parsing raises that is not a JSONDecodeError; any other is raised as it came."""
    if "integer string conversion" not in str(exc):
        return exc
    return ApiError(400, f"{what} holds an integer of more digits than this server takes "
                         f"({sys.get_int_max_str_digits()}).", field=field)


def parse_json_body(raw: bytes) -> Any:
    """A request body as strict JSON (UTF-8, no NaN or Infinity, at most 64 levels deep); None when empty.

    Anything else raises `ApiError` 400 saying what is wrong.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"Request body is not UTF-8 text (byte {exc.start} is invalid).") from None
    if not text:
        return None
    try:
        # Arrays of a top-level object come with a bound of each element's compact size (compactjson.py).
        parsed = compactjson.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                                   min_length=SIZED_BODY_LENGTH)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}.") from None
    except RecursionError:  # deeper than the parser can go, so far too deep
        raise ApiError(400, f"Request body {TOO_DEEP}.") from None
    except ValueError as exc:
        raise _integer_too_long(exc, "Request body") from None
    # Each level takes a bracket, so their count bounds the nesting. A short body's arrays were not parsed alone,
    # so `nesting_bound` could only count them all too: 6.5k more instructions per 1-item refresh (ir.sh).
    short = len(text) < SIZED_BODY_LENGTH
    bound = text.count("[") + text.count("{") if short else compactjson.nesting_bound(text, parsed)
    if bound > MAX_JSON_DEPTH and too_deep(parsed):  # counting is cheaper
        raise ApiError(400, f"Request body {TOO_DEEP}.")
    # A lone surrogate can come only from a `\ud800`-style escape (UTF-8 has none), and no store or response
    # can encode it: refuse it here rather than fail with a 500 later.
    if "\\" in text and "\\u" in text:  # one character is found by memchr; "\\u" by a far slower search
        field = lone_surrogate_at(parsed)
        if field is not None:
            raise ApiError(400, f"Request body holds a lone UTF-16 surrogate escape (such as \\ud800), which is not "
                                f"a character (at {field or 'the top level'}).", field=field or None)
    return parsed


def lone_surrogate_at(value: Any) -> str | None:
    """The dotted path of the first string (or object key) in parsed JSON holding a lone surrogate; "" for the
    value itself; None when there is none."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if not _encodable(node):
                return ".".join(path)
        elif isinstance(node, dict):
            for key, child in node.items():
                name = key if _encodable(key) else key.encode("utf-8", "backslashreplace").decode("ascii")
                if name is not key:
                    return ".".join((*path, name))
                stack.append((child, (*path, key)))
        elif isinstance(node, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(node))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JsonBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON bodies: UTF-8 only, strict JSON (no NaN or Infinity), and schema errors that name their field."""

    @property
    def _validator(self) -> CompiledSchema:
        return compiled(self._schema, RequestValidator)

    async def _parse(self, stream: Any, scope: Scope) -> Any:
        return parse_json_body(b"".join([chunk async for chunk in stream]))

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            raise ApiError(400, "Request body is missing: send a JSON object.")
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            raise _schema_error(exc, "request body") from None
        return None


# Looked up once: `codecs.getincrementaldecoder` searches the codec registry each time.
_UTF8_DECODER = codecs.getincrementaldecoder("utf-8")


class _Utf8CheckingParser(MultiPartParser):
    """Starlette's multipart parser, noting each text field that is not UTF-8.

    Starlette decodes such a field as Latin-1 without a word; the fields' raw bytes are gone by the time the form
    is returned, so each part's bytes go through an incremental UTF-8 decoder as they arrive (files too, but a
    binary file fails on its first bytes and is not decoded further). Only the parser's callbacks and `items` are
    used; `tests/mockserver/web/test_bad_input.py` fails if Starlette stops calling them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.not_utf8: dict[str, int] = {}  # field name: offset of the first invalid byte (of its first bad part)
        self._decoder = _UTF8_DECODER()
        self._seen = 0
        self._invalid_at: int | None = None

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._decoder.reset()
        self._seen = 0
        self._invalid_at = None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        super().on_part_data(data, start, end)
        if self._invalid_at is None:
            self._decode(data[start:end], final=False)
            self._seen += end - start

    def on_part_end(self) -> None:
        super().on_part_end()
        if self._invalid_at is None:
            self._decode(b"", final=True)  # a sequence the part ends in the middle of
        name, value = self.items[-1]
        if isinstance(value, str) and self._invalid_at is not None:
            self.not_utf8.setdefault(name, self._invalid_at)

    def _decode(self, data: bytes, *, final: bool) -> None:
        pending = len(self._decoder.getstate()[0])  # bytes of an unfinished sequence from earlier data
        try:
            self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            self._invalid_at = self._seen - pending + exc.start


def _codec_name(charset: bytes) -> str | None:
    """A charset's codec as Python names it (`UTF8` and `utf_8` are `utf-8`), or None when there is none."""
    try:
        return codecs.lookup(charset.decode("latin-1")).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None


def _filename_not_utf8(value: Any) -> int | None:
    """The offset of the first invalid byte of an uploaded file's name, or None when it is UTF-8 (or no file).

    Starlette decodes a file name that is not UTF-8 as Latin-1 without a word; the part's raw headers still hold
    the bytes that were sent.
    """
    if not isinstance(value, UploadFile) or value.filename is None or value.filename.isascii():
        return None  # decoded as UTF-8 (`read_form` refuses other charsets) or Latin-1: ASCII only from ASCII bytes
    disposition = dict(value.headers.raw).get(b"content-disposition", b"")
    filename = parse_options_header(disposition)[1].get(b"filename", b"")
    try:
        filename.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


class MultipartBodyValidator(MultiPartFormDataValidator):  # type: ignore[misc]
    """Multipart bodies: well-formed, files where files belong, and schema errors that name their field."""

    @property
    def _validator(self) -> CompiledSchema:
        return compiled(self._schema, RequestValidator)

    async def _parse(self, stream: Any, scope: Scope) -> dict[str, Any]:
        parsed = await read_form(Headers(scope=scope), stream, self._schema,
                                 functools.partial(resolve_form_field, self._uri_parser))
        await parsed.close()
        return parsed.data

    def _validate(self, body: Any) -> dict[str, Any] | None:
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            raise _schema_error(exc, "form") from None
        return None


@dataclasses.dataclass(frozen=True)
class ParsedForm:
    """A multipart body as the validator checks it, and the uploads the handler reads (open until `close`)."""

    data: dict[str, Any]  # text fields resolved as Connexion resolves them; files as its placeholders ("")
    files: dict[str, list[UploadFile]]
    form: FormData

    async def close(self) -> None:
        await self.form.close()


async def read_form(headers: Headers, stream: AsyncIterator[bytes], schema: dict[str, Any],
                    resolve: Callable[[str, list[Any]], dict[str, Any]]) -> ParsedForm:
    """Parse and check a multipart body, with the checks Connexion leaves out: `ApiError` 400 saying what is wrong.

    Shared by `MultipartBodyValidator` and the fast path, so that both accept and read a form alike. `resolve`
    turns one text field's values into what Connexion's form decoding makes of them.
    """
    if "content-type" not in headers:
        raise ApiError(400, "Missing Content-Type header: send multipart/form-data with a boundary.")
    options = parse_options_header(headers["content-type"])[1]
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, "Malformed multipart/form-data body: the Content-Type has no boundary.")
    charset = options.get(b"charset")
    if charset is not None and _codec_name(charset) != "utf-8":
        # Starlette would decode names and text in it, and as Latin-1 what does not decode (an unknown charset,
        # UTF-8 under `us-ascii`): not the UTF-8 they must be.
        raise ApiError(400, f"The Content-Type declares the charset {_short(charset.decode('latin-1'))}; a form's "
                            "text must be UTF-8: send charset=utf-8 or none.")
    closed: list[bool] = []
    try:
        body = _watch_close(stream, b"--" + boundary + b"--", closed)
        parser = _Utf8CheckingParser(headers, body)
        form = await parser.parse()
    except (MultiPartException, MultipartParseError, KeyError, ValueError) as exc:
        raise ApiError(400, f"Malformed multipart/form-data body: {exc}") from None
    properties: dict[str, Any] = schema.get("properties", {})
    data: dict[str, Any] = {}
    files: dict[str, list[UploadFile]] = {}
    try:
        if not closed:
            closing = f"--{boundary.decode('latin-1')}--"
            raise ApiError(400, "Malformed multipart/form-data body: it ends without the closing "
                                f"boundary {closing}, so it is truncated or not multipart.")
        for key in form:
            values = form.getlist(key)
            field_schema = properties.get(key, {})
            if key in parser.not_utf8:
                raise ApiError(400, f"{key} is not UTF-8 text (byte {parser.not_utf8[key]} of its value is "
                                    "invalid).", field=key)
            for value in values:
                invalid_at = _filename_not_utf8(value)
                if invalid_at is not None:
                    raise ApiError(400, f"{key}: the file name is not UTF-8 text (byte {invalid_at} of it is "
                                        "invalid).", field=key)
            if _is_file(field_schema) or _is_file(field_schema.get("items", {})):
                if any(not isinstance(v, UploadFile) for v in values):
                    raise ApiError(400, f"{key} must be a file upload (a part with a filename), not a "
                                        "text value.", field=key)
                # Connexion's convention: files stand as placeholders while the rest is validated.
                data[key] = "" if _is_file(field_schema) and len(values) == 1 else [""] * len(values)
                files[key] = [v for v in values if isinstance(v, UploadFile)]  # every one, as just checked
            elif any(isinstance(v, UploadFile) for v in values):
                raise ApiError(400, f"{key} is a text field; it was sent as a file upload.", field=key)
            elif field_schema and not _repeatable(field_schema) and len(values) > 1:
                raise ApiError(400, f"{key} was sent {len(values)} times; send it once.", field=key)
            else:
                _check_json_array(key, field_schema, values)
                data.update(resolve(key, values))
    except BaseException:
        await form.close()
        raise
    return ParsedForm(data, files, form)


def resolve_form_field(uri_parser: Any, key: str, values: list[Any]) -> dict[str, Any]:
    """One text field through Connexion's form decoding (JSON parts, arrays, number coercion)."""
    if uri_parser is None:
        return {key: values}
    try:
        resolved: dict[str, Any] = uri_parser.resolve_form({key: values})
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"{key} must be JSON: {exc.msg} at column {exc.colno}.", field=key) from None
    except RecursionError:
        raise ApiError(400, f"{key} {TOO_DEEP}.", field=key) from None
    except (TypeValidationError, TypeError):
        shown = _short(values[0])
        raise ApiError(400, f"{key} has a value of the wrong type: {shown}.", field=key) from None
    except ValueError as exc:
        raise _integer_too_long(exc, key, field=key) from None
    if too_deep(resolved, MAX_JSON_DEPTH + 1):  # one level more: the field's own name
        raise ApiError(400, f"{key} {TOO_DEEP}.", field=key)
    return resolved


async def _watch_close(
    stream: AsyncIterator[bytes], delimiter: bytes, closed: list[bool]
) -> AsyncGenerator[bytes, None]:
    """Pass the body through, noting in `closed` whether the closing delimiter went by."""
    tail = b""
    async for chunk in stream:
        window = tail + chunk
        if not closed and delimiter in window:
            closed.append(True)
        tail = window[-len(delimiter):]
        yield chunk


def _check_json_array(key: str, schema: dict[str, Any], values: list[Any]) -> None:
    """An array of objects can only come as a JSON-encoded part; anything but a JSON array there is 400."""
    if schema.get("type") != "array" or schema.get("items", {}).get("type") != "object":
        return
    for value in values:
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            continue  # Connexion's own decoding reports the JSON error
        surrogate_at = lone_surrogate_at(decoded)
        if surrogate_at is not None:
            field = ".".join(part for part in (key, surrogate_at) if part)
            raise ApiError(400, f"{key} holds a lone UTF-16 surrogate escape (such as \\ud800), which is not a "
                                f"character (at {field}).", field=key)
        if not isinstance(decoded, list):
            kind = _json_kind(decoded)
            raise ApiError(400, f"{key} must be a JSON array of objects; got {kind}.", field=key)


def _json_kind(value: Any) -> str:
    kinds = ((dict, "an object"), (str, "a string"), (bool, "a boolean"), (int | float, "a number"))
    return next((kind for python_type, kind in kinds if isinstance(value, python_type)), "null")


def _repeatable(schema: dict[str, Any]) -> bool:
    """Whether a form field may come in several parts: arrays of plain values, not JSON-encoded ones."""
    return schema.get("type") == "array" and schema.get("items", {}).get("type") != "object"


def _is_file(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") in ("binary", "base64")


class JsonResponseValidator(JSONResponseBodyValidator):  # type: ignore[misc]
    """Connexion's response check (`validate_responses`) with the schema compiled once, not per response."""

    @property
    def validator(self) -> CompiledSchema:
        return compiled(self._schema, Draft4ResponseValidator)


VALIDATOR_MAP: dict[str, Any] = {
    "parameter": ParameterValidator,
    "body": {
        "application/json": JsonBodyValidator,
        "*/*json": JsonBodyValidator,
        "multipart/form-data": MultipartBodyValidator,
    },
    "response": MediaTypeDict({"*/*json": JsonResponseValidator, "text/plain": TextResponseBodyValidator}),
}
