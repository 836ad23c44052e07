"""RAIR's token metadata API: its target section, case repairs and behaviour checks."""

from __future__ import annotations

from conformance.apis.base import ApiSuite
from conformance.apis.rair import behaviour, repairs, target
from conformance.target_base import Target


def _credential(whole: Target) -> dict[str, str]:
    return {"api_key": target.rair_of(whole).owner_token}


SUITE = ApiSuite(
    name=target.NAME,
    title="RAIR",
    read_target=target.read_section,
    security_scheme="RairToken",
    credential=_credential,
    write_operations=frozenset({"updateTokenMetadata"}),
    checks=behaviour.CHECKS,
    vendor_openapi={
        "getToken": "RAIR OpenAPI (rair-dapp rairapi_old.yaml), GET /api/nft/network/.../token/{token}",
    },
    vendor_pages={"updateTokenMetadata": "RAIR docs, 'Update specific token metadata by internal token ID'"},
    adjust_spec=repairs.generate_at_most_max_files,
    known_path=repairs.known_path,
    body_repairs={"updateTokenMetadata": repairs.fix_update_body},
)
