"""Immutable's case repairs: what a generated case becomes before it is sent."""

from __future__ import annotations

import schemathesis

from conformance._specs import load_spec
from conformance.apis.immutable import repairs
from conformance.target import load_target


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

    repairs.fix_stacked_refresh_body(case, load_target())

    assert case.body == {"metadata": [{**item, "metadata_id": "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"}]}
