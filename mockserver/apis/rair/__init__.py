"""RAIR token metadata: owner-only updates of a token's metadata, with media uploads referenced by file name.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.rair.operations import (
    admit,
    build,
    configure,
    configure_spec,
    operations,
    principal,
    reset,
    state,
    upload_cap,
)
from mockserver.apis.rair.service import RairRecords, RairService, render_error, seed_part

API = Api[RairService](
    name="rair",
    title="RAIR token metadata",
    spec_file="rair.yaml",
    prefix="/api/nft/",
    render_error=render_error,
    credential_header="x-rair-token",
    missing_credentials="Missing x-rair-token header: send the session token of the contract owner.",
    oversize_status=413,
    seed=seed_part,
    build=build,
    configure=configure,
    operations=operations,
    principal=principal,
    state=state,
    upload_cap=upload_cap,
    configure_spec=configure_spec,
    reset=reset,
    client_limit=admit,
)

__all__ = ["API", "RairRecords", "RairService"]
