"""Immutable zkEVM's NFT metadata refresh API: its target section, case repairs and behaviour checks."""

from __future__ import annotations

from conformance.apis.base import ApiSuite
from conformance.apis.immutable import behaviour, repairs, target
from conformance.target_base import Target

_VENDOR_OPENAPI = "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json)"


def _credential(whole: Target) -> dict[str, str]:
    return {"api_key": target.immutable_of(whole).api_key}


SUITE = ApiSuite(
    name=target.NAME,
    title="Immutable zkEVM",
    read_target=target.read_section,
    security_scheme="ImmutableApiKey",
    credential=_credential,
    write_operations=frozenset({"RefreshNFTMetadataByTokenID", "RefreshMetadataByID"}),
    checks=behaviour.CHECKS,
    vendor_openapi={
        operation: f"{_VENDOR_OPENAPI}, {operation}"
        for operation in ("GetNFT", "ListNFTs", "RefreshNFTMetadataByTokenID", "RefreshMetadataByID", "GetMetadata",
                          "ListMetadata")
    },
    adjust_spec=repairs.rate_headers_required,
    known_path=repairs.known_path,
    body_repairs={"RefreshNFTMetadataByTokenID": repairs.fix_refresh_body,
                  "RefreshMetadataByID": repairs.fix_stacked_refresh_body},
    body_filters={"RefreshNFTMetadataByTokenID": repairs.refresh_sizes_ok,
                  "RefreshMetadataByID": repairs.stacked_refresh_sizes_ok},
    # Only the server can issue a valid cursor; a generated one is bad input however well-formed.
    server_issued_query={"ListNFTs": frozenset({"page_cursor"}), "ListMetadata": frozenset({"page_cursor"})},
)
