"""Tokenization TR admin tokens: replace a token's details, add and remove its images and documents.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.page import Column, PageView, RecordsTable
from mockserver.apis.tokenization.fixturegen import GENERATOR
from mockserver.apis.tokenization.fixtures import SECTION as FIXTURES
from mockserver.apis.tokenization.operations import build, configure, operations, principal, state, upload_cap
from mockserver.apis.tokenization.recording import recorded_fixtures
from mockserver.apis.tokenization.service import TokenizationRecords, TokenizationService, render_error, seed_part
from mockserver.apis.tokenization.settings import SECTION as SETTINGS

PAGE = PageView(
    summary="Admin token update",
    operation="PUT /v2/admin/token/{token_id}",
    table=RecordsTable(title="Tokenization tokens", records="tokens", row_id="id", empty="No Tokenization tokens.",
                       columns=(
        Column(title="Token", field="id", kind="short"),
        Column(title="Name", field="name", css="name"),
        Column(title="Description", field="description", css="desc"),
        Column(title="Value", field="value.total_value", kind="each", other="value.token_price"),
        Column(title="Salable", field="value.salable_percentage", kind="percent"),
        Column(title="Images", field="meta.images", kind="images"),
        Column(title="Documents", field="meta.documents", kind="files"),
        Column(title="Updated", field="updated_at", kind="time"),
    )),
)

API = Api[TokenizationService](
    name="tokenization",
    title="Tokenization TR admin API",
    label="Tokenization TR",
    spec_file="tokenization.yaml",
    prefix="/v2/admin/",
    render_error=render_error,
    credential_header="authorization",
    missing_credentials="Missing Authorization header: send 'Authorization: Bearer <token>'.",
    malformed_credentials="Malformed Authorization header: send 'Authorization: Bearer <token>'.",
    oversize_status=413,
    seed=seed_part,
    build=build,
    configure=configure,
    operations=operations,
    principal=principal,
    state=state,
    upload_cap=upload_cap,
    fixtures_section=FIXTURES,
    fixtures_generator=GENERATOR,
    settings_section=SETTINGS,
    page=PAGE,
    recorded_fixtures=recorded_fixtures,
)

__all__ = ["API", "TokenizationRecords", "TokenizationService"]
