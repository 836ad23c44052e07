"""Immutable zkEVM: metadata refresh under a per-project quota, and the NFT reads that show its effect.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.immutable.fixturegen import GENERATOR
from mockserver.apis.immutable.fixtures import SECTION as FIXTURES
from mockserver.apis.immutable.operations import (
    RATE_LIMITS_SCHEMA,
    RequestScope,
    build,
    configure,
    forced_429_headers,
    operations,
    principal,
    rate_limits,
    reset,
    state,
)
from mockserver.apis.immutable.recording import recorded_fixtures
from mockserver.apis.immutable.service import ImmutableRecords, ImmutableService, render_error, seed_part
from mockserver.apis.immutable.settings import SECTION as SETTINGS
from mockserver.apis.immutable.settings import limits_storage
from mockserver.apis.page import Column, Count, PageView, QuotaView, RecordsTable, Switch

PAGE = PageView(
    summary="NFT metadata refresh",
    operation="POST /v1/chains/{chain}/collections/{contract}/nfts/refresh-metadata",
    table=RecordsTable(title="Immutable NFTs", records="nfts", row_id="token_id", empty="No Immutable NFTs.", columns=(
        Column(title="Chain", field="chain.name", css="nowrap"),
        Column(title="Collection", field="contract_address", kind="short"),
        Column(title="Token", field="token_id"),
        Column(title="Image", field="image", kind="image", other="name", noun="NFT"),
        Column(title="Name", field="name", css="name"),
        Column(title="Description", field="description", css="desc"),
        Column(title="Attributes", field="attributes", kind="attributes"),
        Column(title="Metadata synced", field="metadata_synced_at", kind="time"),
    )),
    # Stacked metadata: each NFT whose metadata_id is the id shows these values.
    more_tables=(RecordsTable(
        title="Immutable stacked metadata", records="metadata", row_id="id", row_attribute="metadata",
        empty="No Immutable stacked metadata.", columns=(
            Column(title="Chain", field="chain.name", css="nowrap"),
            Column(title="Collection", field="contract_address", kind="short"),
            Column(title="Metadata id", field="id", kind="short"),
            Column(title="Image", field="image", kind="image", other="name", noun="metadata"),
            Column(title="Name", field="name", css="name"),
            Column(title="Description", field="description", css="desc"),
            Column(title="Attributes", field="attributes", kind="attributes"),
            Column(title="Updated", field="updated_at", kind="time"),
        )),),
    counts=(Count(field="pending_refreshes", label="Immutable refresh(es) pending"),
            Count(field="pending_metadata_refreshes", label="stacked metadata refresh(es) pending")),
    quota=QuotaView(summary="Immutable refreshes", title="Immutable refresh quota per project", rows="projects",
                    row_key="project", row_title="Project", empty="No Immutable projects.",
                    switch=Switch(field="shared", on="one budget for both refresh operations",
                                  off="a budget per refresh operation"),
                    spent_by="operations"),
)

API = Api[ImmutableService](
    name="immutable",
    title="Immutable zkEVM API",
    label="Immutable zkEVM",
    spec_file="immutable.yaml",
    prefix="/v1/chains/",
    render_error=render_error,
    credential_header="x-immutable-api-key",
    missing_credentials="Missing x-immutable-api-key header: send a secret API key of the project.",
    oversize_status=400,
    media_type_status=400,  # the published spec has no 415 either
    seed=seed_part,
    build=build,
    configure=configure,
    reset=reset,
    rate_limits=rate_limits,
    rate_limits_schema=RATE_LIMITS_SCHEMA,
    operations=operations,
    principal=principal,
    state=state,
    # `@imtbl/sdk` sends its publishable key and `@imtbl/generated-clients`' `createConfig` `x-sdk-version`.
    cors_request_headers=("x-immutable-publishable-key", "x-sdk-version"),
    # The refresh quota, on 202 and 429.
    cors_response_headers=("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes"),
    forced_429_headers=forced_429_headers,
    request_scope=RequestScope,
    fixtures_section=FIXTURES,
    fixtures_generator=GENERATOR,
    settings_section=SETTINGS,
    page=PAGE,
    limits_storage=limits_storage,
    quota_setting="rate_limit",
    recorded_fixtures=recorded_fixtures,
)

__all__ = ["API", "ImmutableRecords", "ImmutableService"]
