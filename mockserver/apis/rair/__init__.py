"""RAIR token metadata: owner-only updates of a token's metadata, with media uploads referenced by file name.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.page import Column, PageView, RecordsTable
from mockserver.apis.rair.fixturegen import GENERATOR
from mockserver.apis.rair.fixtures import SECTION as FIXTURES
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
from mockserver.apis.rair.recording import recorded_fixtures
from mockserver.apis.rair.service import RairRecords, RairService, render_error, seed_part
from mockserver.apis.rair.settings import SECTION as SETTINGS

PAGE = PageView(
    summary="Token metadata update",
    operation="POST /api/nft/network/{networkId}/{contract}/{product}/token/{token}",
    note="`GET` on the same path needs no `x-rair-token` (none is checked, as on RAIR's server)",
    table=RecordsTable(title="RAIR tokens", records="tokens", row_id="token", empty="No RAIR tokens.", columns=(
        Column(title="Contract", field="contract", kind="short"),
        Column(title="Token", field="token"),
        Column(title="Image", field="metadata.image", kind="image", other="metadata.name", noun="token"),
        Column(title="Name", field="metadata.name", css="name"),
        Column(title="Description", field="metadata.description", css="desc"),
        Column(title="Attributes", field="metadata.attributes", kind="attributes"),
        Column(title="Owner", field="ownerAddress", kind="short"),
        Column(title="Minted", field="isMinted", kind="yes-no"),
    )),
)

API = Api[RairService](
    name="rair",
    title="RAIR token metadata",
    label="RAIR",
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
    fixtures_section=FIXTURES,
    fixtures_generator=GENERATOR,
    settings_section=SETTINGS,
    page=PAGE,
    recorded_fixtures=recorded_fixtures,
    reset=reset,
    client_limit=admit,
)

__all__ = ["API", "RairRecords", "RairService"]
