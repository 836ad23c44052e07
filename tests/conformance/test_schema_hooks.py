"""The hooks' effect on the wire: the check that keeps read-only runs from sending writes a correct server
would accept, and the labels every file part gets."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis

from conformance._specs import load_spec
from conformance.schema_hooks import CaseAdapter, WireValidator
from conformance.target import load_target
from tests.conformance.conftest import mock_app, run_suite, serve

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


TOKENIZATION_PATH = "/v2/admin/token/{token_id}"
TOKENIZATION_TOKEN = {"token_id": "67d8774e903bfcbe7eb5d93e"}


def _tokenization_case(body: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(load_spec("tokenization"))
    operation = schema[TOKENIZATION_PATH]["PUT"]
    return operation.Case(body=body, media_type="multipart/form-data", path_parameters=TOKENIZATION_TOKEN)


@pytest.fixture(scope="module")
def tokenization_wire() -> WireValidator:
    return WireValidator(load_spec("tokenization"))


# A multipart number is text on the wire; a server following the spec reads it as its property's type
# (seed 7 sent 50 such updates, all accepted, when "10" counted as a string and so as invalid).
@pytest.mark.parametrize("numbers", [
    {"total_value": "0", "salable_percentage": "10"},
    {"total_value": 0.0, "salable_percentage": 100},
    {"total_value": "12000.5"},
])
def test_form_numbers_are_numbers_on_the_wire(tokenization_wire: WireValidator, numbers: dict[str, Any]) -> None:
    assert tokenization_wire.is_valid(_tokenization_case({"name": "T", "description": "d", **numbers}))


@pytest.mark.parametrize("numbers", [
    {"total_value": "ten"},
    {"total_value": "-1"},
    {"salable_percentage": "100.4"},
])
def test_form_numbers_out_of_their_schema_are_invalid_on_the_wire(
    tokenization_wire: WireValidator, numbers: dict[str, Any]
) -> None:
    assert not tokenization_wire.is_valid(_tokenization_case({"name": "T", "description": "d", **numbers}))


def test_a_body_openapi_core_cannot_read_is_not_sent(rair_wire: WireValidator) -> None:
    # Text where multipart parts belong makes openapi-core's multipart parser assert (seed 5 generates one);
    # what cannot be judged is not sent.
    assert rair_wire.is_valid(_rair_case("\u00af]"))


def _file_part_headers(content_type: str, body: bytes) -> list[str]:
    """The header block of every part of a multipart body that carries a file (a `filename`)."""
    boundary = content_type.partition("boundary=")[2].strip('"').encode()
    heads = [part.partition(b"\r\n\r\n")[0].decode("latin-1") for part in body.split(b"--" + boundary)]
    return [head for head in heads if "filename=" in head]


def _multipart_requests(*apis: str, destructive: bool) -> list[tuple[str, bytes]]:
    """(Content-Type, body) of every multipart request a run of the suite sends to the mock."""
    seen: list[tuple[str, bytes]] = []
    app = mock_app()

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def replay() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        await app(scope, replay, send)
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        if content_type.startswith("multipart/"):
            seen.append((content_type, b"".join(chunks)))

    with serve(recorder) as url:
        run_suite(url, *apis, destructive=destructive, examples=10)
    return seen


def test_every_file_part_the_suite_sends_names_its_media_type() -> None:
    # Schemathesis leaves generated file parts unlabelled; Prism 5 dies on one, taking the rest of the run with it.
    sent = _multipart_requests("rair", "tokenization", destructive=True)
    file_parts = [head for content_type, body in sent for head in _file_part_headers(content_type, body)]
    unlabelled = [head for head in file_parts if "content-type:" not in head.lower()]
    assert len(file_parts) > 20
    assert not unlabelled, f"{len(unlabelled)} of {len(file_parts)} file parts without Content-Type: {unlabelled[:3]}"


def test_a_valid_stacked_refresh_names_the_targets_metadata_once_each() -> None:
    """Generated UUIDs name no metadata of the collection (a 404 tells nothing about a valid refresh): a positive
    case is pointed at the target's stacked metadata, one item per id, since an id twice is a 400."""
    schema = schemathesis.openapi.from_dict(load_spec("immutable"))
    operation = schema["/v1/chains/{chain_name}/collections/{contract_address}/metadata/refresh-metadata"]["POST"]
    item = {"metadata_id": "00000000-0000-4000-8000-000000000001", "name": "x", "description": None, "image": None,
            "external_url": None, "animation_url": None, "youtube_url": None, "attributes": None}
    case = operation.Case(body={"metadata": [item, {**item, "name": "y"}]}, media_type="application/json",
                          path_parameters={"chain_name": "imtbl-zkevm-testnet",
                                           "contract_address": "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"})

    CaseAdapter("immutable", load_target())._fix_stacked_refresh_body(case)

    assert case.body == {"metadata": [{**item, "metadata_id": "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"}]}
