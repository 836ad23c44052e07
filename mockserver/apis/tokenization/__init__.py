"""Tokenization TR admin tokens: replace a token's details, add and remove its images and documents.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.tokenization.operations import build, configure, operations, principal, state, upload_cap
from mockserver.apis.tokenization.recording import recorded_fixtures
from mockserver.apis.tokenization.service import TokenizationRecords, TokenizationService, render_error, seed_part

API = Api[TokenizationService](
    name="tokenization",
    title="Tokenization TR admin API",
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
    recorded_fixtures=recorded_fixtures,
)

__all__ = ["API", "TokenizationRecords", "TokenizationService"]
