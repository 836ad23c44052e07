"""Connexion's body validators, made to name the field at fault and to answer malformed input with 400.

Out of the box Connexion answers a non-UTF-8 JSON body, a broken multipart body and a malformed JSON form part
with 500, lets a text part stand in for a file, and reports a schema error only as a sentence. These subclasses
raise `ApiError` instead, which each API renders in its own error shape.
"""

from __future__ import annotations

import json
from typing import Any

from connexion.validators import JSONRequestBodyValidator, MultiPartFormDataValidator
from connexion.exceptions import TypeValidationError
from jsonschema import ValidationError
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Scope

from mockserver.errors import ApiError


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
    return ApiError(400, f"Invalid {where}: {error.message}{at}.", field=field)


class JsonBodyValidator(JSONRequestBodyValidator):
    """JSON bodies: UTF-8 only, and schema errors that name their field."""

    async def _parse(self, stream: Any, scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, f"Request body is not UTF-8 text (byte {exc.start} is invalid).") from None
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"Request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno}.") from None

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            raise ApiError(400, "Request body is missing: send a JSON object.")
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            raise _schema_error(exc, "request body") from None
        return None


class MultipartBodyValidator(MultiPartFormDataValidator):
    """Multipart bodies: well-formed, files where files belong, and schema errors that name their field."""

    async def _parse(self, stream: Any, scope: Scope) -> dict[str, Any]:
        try:
            form = await MultiPartParser(Headers(scope=scope), stream).parse()
        except (MultiPartException, MultipartParseError, KeyError, ValueError) as exc:
            raise ApiError(400, f"Malformed multipart/form-data body: {exc}") from None
        properties: dict[str, Any] = self._schema.get("properties", {})
        data: dict[str, Any] = {}
        try:
            for key in form:
                values = form.getlist(key)
                schema = properties.get(key, {})
                if _is_file(schema) or _is_file(schema.get("items", {})):
                    if any(not isinstance(v, UploadFile) for v in values):
                        raise ApiError(400, f"{key} must be a file upload (a part with a filename), not a text "
                                            "value.", field=key)
                    # Connexion's convention: files stand as placeholders while the rest is validated.
                    data[key] = "" if _is_file(schema) and len(values) == 1 else [""] * len(values)
                elif any(isinstance(v, UploadFile) for v in values):
                    raise ApiError(400, f"{key} is a text field; it was sent as a file upload.", field=key)
                else:
                    data.update(self._resolve(key, values))
        finally:
            await form.close()
        return data

    def _resolve(self, key: str, values: list[Any]) -> dict[str, Any]:
        """One field through Connexion's form decoding (JSON parts, arrays, number coercion)."""
        if self._uri_parser is None:
            return {key: values}
        try:
            resolved: dict[str, Any] = self._uri_parser.resolve_form({key: values})
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"{key} must be JSON: {exc.msg} at column {exc.colno}.", field=key) from None
        except TypeValidationError:
            raise ApiError(400, f"{key} has a value of the wrong type: {values[0]!r}.", field=key) from None
        return resolved

    def _validate(self, body: Any) -> dict[str, Any] | None:
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            raise _schema_error(exc, "form") from None
        return None


def _is_file(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") in ("binary", "base64")


VALIDATOR_MAP = {
    "body": {
        "application/json": JsonBodyValidator,
        "*/*json": JsonBodyValidator,
        "multipart/form-data": MultipartBodyValidator,
    }
}
