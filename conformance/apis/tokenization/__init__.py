"""Tokenization TR's admin token API: its target section, case repairs and behaviour checks."""

from __future__ import annotations

from conformance.apis.base import ApiSuite
from conformance.apis.tokenization import behaviour, repairs, target
from conformance.target_base import Target


def _credential(whole: Target) -> dict[str, str]:
    return {"bearer": target.tokenization_of(whole).bearer_token}


SUITE = ApiSuite(
    name=target.NAME,
    title="Tokenization TR",
    read_target=target.read_section,
    security_scheme="BearerAuth",
    credential=_credential,
    write_operations=frozenset({"updateToken"}),
    checks=behaviour.CHECKS,
    vendor_pages={
        "updateToken": "Tokenization docs, 'Update Token'",
        "getToken": "Tokenization docs, 'Get Token Details'",
    },
    known_path=repairs.known_path,
    body_repairs={"updateToken": repairs.fix_update_body},
)
