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
from mockserver.apis.immutable.service import ImmutableRecords, ImmutableService, render_error, seed_part
from mockserver.apis.immutable.settings import SECTION as SETTINGS
from mockserver.apis.immutable.settings import limits_storage

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
    limits_storage=limits_storage,
    quota_setting="rate_limit",
)

__all__ = ["API", "ImmutableRecords", "ImmutableService"]
