"""Request validators: schemas compiled once, a fast path that agrees with the authoritative one."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError  # type: ignore[import-untyped]

from mockserver.errors import ApiError
from mockserver.web.validation import (
    SIZED_BODY_LENGTH,
    TOO_DEEP,
    CompiledSchema,
    JsonBodyValidator,
    MultipartBodyValidator,
    ParameterSchemaValidator,
    ParameterValidator,
    RequestValidator,
    check_path_value,
    compiled,
    parse_json_body,
    too_deep,
)

BODY: dict[str, Any] = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {"type": "array", "maxItems": 2, "items": {"$ref": "#/components/schemas/Item"}},
    },
    "components": {"schemas": {"Item": {
        "type": "object",
        "required": ["token_id"],
        "properties": {
            "token_id": {"type": "string", "pattern": "^[0-9]+$"},
            "name": {"type": "string", "nullable": True},
            "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "when": {"type": "string", "format": "date-time"},
        },
    }}},
}


def _json_validator(schema: dict[str, Any]) -> JsonBodyValidator:
    return JsonBodyValidator(schema=schema, encoding="utf-8", strict_validation=False)


def test_body_schema_is_compiled_once_for_every_request() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}}
    first, second = _json_validator(schema)._validator, _json_validator(schema)._validator
    assert first is second
    assert isinstance(first, CompiledSchema)
    assert first.fast is not None


def test_multipart_schema_is_compiled_once_for_every_request() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"}}}

    def make() -> MultipartBodyValidator:
        return MultipartBodyValidator(schema=schema, encoding="utf-8", strict_validation=False, uri_parser=None)

    assert make()._validator is make()._validator


def test_parameter_schema_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    original = CompiledSchema.__init__

    def counting(self: CompiledSchema, schema: dict[str, Any], cls: Any) -> None:
        built.append(schema)
        original(self, schema, cls)

    monkeypatch.setattr(CompiledSchema, "__init__", counting)
    param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-f]+$"}}
    for _ in range(3):
        ParameterValidator.validate_parameter("path", "abc", param)
        assert check_path_value("id", "abc", param["schema"]) is None
    assert built == [param["schema"]]


def test_equal_schemas_that_are_different_objects_are_not_confused() -> None:
    loose: dict[str, Any] = {"type": "string"}
    strict: dict[str, Any] = {"type": "string", "maxLength": 1}
    compiled(loose, ParameterSchemaValidator).validate("long")
    with pytest.raises(ValidationError):
        compiled(strict, ParameterSchemaValidator).validate("long")


def test_fast_path_takes_openapi_nullable_as_null_type_and_enum_member() -> None:
    fast = compiled(BODY, RequestValidator).fast
    assert fast is not None
    assert fast.is_valid({"items": [{"token_id": "1", "name": None, "kind": None}]})
    assert not fast.is_valid({"items": [{"token_id": "1", "kind": "c"}]})


@pytest.mark.parametrize("item", [
    {"token_id": "1\n"},                     # ECMA `$`: no final newline allowed
    {"token_id": "1", "when": "yesterday"},  # date-time format
    {"token_id": "1", "kind": "c"},
    {"token_id": 1},
    {},
])
def test_fast_path_rejects_what_jsonschema_rejects(item: dict[str, Any]) -> None:
    schema = compiled(BODY, RequestValidator)
    assert schema.fast is not None
    assert not schema.fast.is_valid({"items": [item]})
    with pytest.raises(ValidationError):
        schema.validate({"items": [item]})


def test_errors_still_come_from_jsonschema_with_their_field() -> None:
    validator = _json_validator(BODY)
    with pytest.raises(ApiError, match=r"does not match \^\[0-9\]\+\$") as caught:
        validator._validate({"items": [{"token_id": "1"}, {"token_id": "12\n"}]})
    assert caught.value.field == "items.1.token_id"


def test_a_schema_the_fast_path_cannot_compile_still_validates() -> None:
    schema: dict[str, Any] = {"type": "string", "pattern": "^a{,3}$"}  # Python's regex takes it, Rust's does not
    result = compiled(schema, RequestValidator)
    assert result.fast is None
    result.validate("aaa")
    with pytest.raises(ValidationError):
        result.validate("aaaa")


def _nested(levels: int) -> Any:
    """Arrays and objects alternating `levels` deep, with scalars and shallow siblings at every level."""
    value: Any = {"leaf": 1}
    for level in range(levels - 1):
        value = [value, "text", [], {"n": level}] if level % 2 == 0 else {"a": value, "b": None}
    return value


@pytest.mark.parametrize(("levels", "limit", "deep"), [
    (64, 64, False), (65, 64, True), (1, 1, False), (2, 1, True), (3, 2, True), (200, 64, True),
])
def test_too_deep_refuses_exactly_past_the_limit(levels: int, limit: int, deep: bool) -> None:
    assert too_deep(_nested(levels), limit) is deep


def test_a_short_body_nested_at_any_depth_past_the_limit_is_too_deep_whichever_parser_gives_up() -> None:
    # A short body is parsed by msgspec, which goes a few levels deeper than the standard library before its
    # RecursionError: near the interpreter's limit a value comes where json.loads raised. Both are the same 400.
    levels = 65
    while len(body := '{"a": ' + "[" * levels + "]" * levels + "}") < SIZED_BODY_LENGTH:
        with pytest.raises(ApiError) as raised:
            parse_json_body(body.encode())
        assert (raised.value.status, raised.value.message, raised.value.field) == (400, f"Request body {TOO_DEEP}.",
                                                                                   None), levels
        levels += 1
    assert levels > 2000  # well past the recursion limit (1000 by default)


def test_scalars_and_empty_containers_are_not_too_deep() -> None:
    assert too_deep("text", 1) is False
    assert too_deep([[], {}], 2) is False
    assert too_deep([[], {"a": {}}], 2) is True
