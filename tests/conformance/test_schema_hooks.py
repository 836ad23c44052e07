"""The wire check that keeps the read-only run from sending writes a correct server would accept."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis

from conformance._specs import load_spec
from conformance.schema_hooks import WireValidator

RAIR_PATH = "/api/nft/network/{networkId}/{contract}/{product}/token/{token}"
RAIR_TOKEN = {"networkId": "0x89", "contract": "0x571acc173f57c095f1f63b28f823f0f33128a6c4", "product": 0,
              "token": 1}
ATTRIBUTES = json.dumps([{"trait_type": "colour", "value": "red"}])


def _rair_case(body: Any, path: dict[str, Any] | None = None) -> Any:
    schema = schemathesis.openapi.from_dict(load_spec("rair"))
    operation = schema[RAIR_PATH]["POST"]
    return operation.Case(body=body, media_type="multipart/form-data", path_parameters=path or RAIR_TOKEN)


@pytest.fixture(scope="module")
def rair_wire() -> WireValidator:
    return WireValidator(load_spec("rair"))


@pytest.mark.parametrize("body", [
    {"name": "x"},
    # A number where a string is required is the same text once serialised: valid on the wire.
    {"name": 5},
    # One part holding a JSON array, as RAIR reads `attributes` (openapi-core would read each part as an item).
    {"name": "x", "attributes": ATTRIBUTES},
])
def test_valid_on_the_wire(rair_wire: WireValidator, body: dict[str, Any]) -> None:
    assert rair_wire.is_valid(_rair_case(body))


@pytest.mark.parametrize(("body", "path"), [
    ({"name": ""}, None),
    ({"attributes": "[{\"trait_type\": 1}]"}, None),
    ({"name": "x"}, {**RAIR_TOKEN, "contract": "0xnothex"}),
    ({"name": "x"}, {**RAIR_TOKEN, "token": "one"}),
])
def test_invalid_on_the_wire(rair_wire: WireValidator, body: dict[str, Any], path: dict[str, Any] | None) -> None:
    assert not rair_wire.is_valid(_rair_case(body, path))


def test_a_body_openapi_core_cannot_read_is_not_sent(rair_wire: WireValidator) -> None:
    # Text where multipart parts belong makes openapi-core's multipart parser assert (seed 5 generates one);
    # what cannot be judged is not sent.
    assert rair_wire.is_valid(_rair_case("\u00af]"))
