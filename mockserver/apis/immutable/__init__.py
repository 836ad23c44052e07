"""Immutable zkEVM: metadata refresh under a per-project quota, and the NFT reads that show its effect.

`API` is everything the mock needs of it: see `mockserver.apis.base.Api`.
"""

from __future__ import annotations

from mockserver.apis.base import Api
from mockserver.apis.immutable.operations import (
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

API = Api[ImmutableService](
    name="immutable",
    title="Immutable zkEVM API",
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
    operations=operations,
    principal=principal,
    state=state,
    # `@imtbl/sdk` sends its publishable key and `@imtbl/generated-clients`' `createConfig` `x-sdk-version`.
    cors_request_headers=("x-immutable-publishable-key", "x-sdk-version"),
    # The refresh quota, on 202 and 429.
    cors_response_headers=("imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes"),
    forced_429_headers=forced_429_headers,
    request_scope=RequestScope,
    recorded_fixtures=recorded_fixtures,
)

__all__ = ["API", "ImmutableRecords", "ImmutableService"]
