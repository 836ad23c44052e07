"""Immutable's operations: each operationId of `specs/immutable.yaml` and its handler."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from mockserver.apis.base import ApiContext, Handler
from mockserver.apis.immutable.service import (
    REFRESH_BY_METADATA_ID,
    REFRESH_BY_TOKEN_ID,
    TRACE_IDS,
    ImmutableRecords,
    ImmutableService,
)
from mockserver.apis.immutable.settings import immutable_settings
from mockserver.clock import epoch_isoformat
from mockserver.ratelimit import Quota, QuotaLimiter
from mockserver.settings import Settings


def operations(service: ImmutableService) -> dict[str, Handler]:
    async def RefreshNFTMetadataByTokenID(
        chain_name: str, contract_address: str, body: dict[str, Any] | bytes, token_info: dict[str, Any], **_: Any
    ) -> Any:
        # Sent without Content-Type, the body was validated as JSON (the only type the operation takes) but
        # reaches here unparsed.
        parsed: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else body
        accepted = service.refresh(token_info["key"], chain_name, contract_address, parsed)
        return accepted.body, 202, accepted.headers

    async def GetNFT(chain_name: str, contract_address: str, token_id: str, **_: Any) -> Any:
        return service.get_nft(chain_name, contract_address, token_id)

    async def ListNFTs(
        chain_name: str, contract_address: str, token_id: list[str] | None = None,
        from_updated_at: str | None = None, page_cursor: str | None = None, page_size: int = 100, **_: Any,
    ) -> Any:
        return service.list_nfts(
            chain_name, contract_address, token_ids=token_id, from_updated_at=from_updated_at,
            page_cursor=page_cursor, page_size=page_size,
        )

    async def RefreshMetadataByID(
        chain_name: str, contract_address: str, body: dict[str, Any] | bytes, token_info: dict[str, Any], **_: Any
    ) -> Any:
        parsed: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else body  # as for the refresh above
        accepted = service.refresh_stacked(token_info["key"], chain_name, contract_address, parsed)
        return accepted.body, 202, accepted.headers

    async def GetMetadata(chain_name: str, contract_address: str, metadata_id: str, **_: Any) -> Any:
        return service.get_metadata(chain_name, contract_address, metadata_id)

    async def ListMetadata(
        chain_name: str, contract_address: str, from_updated_at: str | None = None, page_cursor: str | None = None,
        page_size: int = 100, **_: Any,
    ) -> Any:
        return service.list_metadata(chain_name, contract_address, from_updated_at=from_updated_at,
                                     page_cursor=page_cursor, page_size=page_size)

    return {
        "RefreshNFTMetadataByTokenID": RefreshNFTMetadataByTokenID, "GetNFT": GetNFT, "ListNFTs": ListNFTs,
        "RefreshMetadataByID": RefreshMetadataByID, "GetMetadata": GetMetadata, "ListMetadata": ListMetadata,
    }


def principal(service: ImmutableService, api_key: str) -> dict[str, Any]:
    return {"sub": api_key, "key": service.authenticate(api_key)}


def state(service: ImmutableService, now: float) -> dict[str, Any]:
    records = service.records
    return {
        "nfts": records.all_nfts(now=now), "pending_refreshes": records.pending_refreshes(),
        "metadata": records.all_metadata(now=now), "pending_metadata_refreshes": records.pending_metadata_refreshes(),
    }


def forced_429_headers(service: ImmutableService) -> dict[str, str]:
    """A forced 429 carries the quota headers of a real one, without spending the quota."""
    quota = service.limiter.peek("forced")
    headers = service.quota_headers(quota)
    del headers["retry-after"]
    headers["Retry-After"] = str(quota.seconds_to_reset(service.now()))
    return headers


def build(context: ApiContext) -> ImmutableService:
    return ImmutableService(ImmutableRecords(context.store), immutable_settings(context.settings), context.clock,
                            _limiter(context), trace_ids=context.trace_id)


class RequestScope:
    """Error bodies rendered while serving a request take their trace ids from the server's source.

    A class rather than `contextlib.contextmanager`: entered on every request, and a generator costs more."""

    def __init__(self, service: ImmutableService) -> None:
        self._trace_ids = service.trace_ids

    def __enter__(self) -> None:
        self._token = TRACE_IDS.set(self._trace_ids)

    def __exit__(self, *exc_info: object) -> None:
        TRACE_IDS.reset(self._token)


def configure(service: ImmutableService, context: ApiContext, previous: Settings) -> None:
    service.settings = immutable_settings(context.settings)
    # A changed limit starts a new window; an unchanged limiter keeps what has been spent.
    if immutable_settings(previous).rate_limit != service.settings.rate_limit:
        service.limiter = _limiter(context)


def reset(service: ImmutableService) -> None:
    service.limiter.reset()


def rate_limits(service: ImmutableService) -> dict[str, Any]:
    """The refresh quota's settings and each project's budgets as they stand, with the operations spending each."""
    limit = service.settings.rate_limit
    groups = [[REFRESH_BY_TOKEN_ID, REFRESH_BY_METADATA_ID]] if limit.shared else [[REFRESH_BY_TOKEN_ID],
                                                                                   [REFRESH_BY_METADATA_ID]]
    budgets = []
    for project in service.records.projects():
        for operations in groups:
            budget = service.limiter.peek(service.budget(project, operations[0]))
            budgets.append({**_quota(project, budget), "operations": operations})
    return {
        "limit": limit.limit, "window": limit.window, "strategy": limit.strategy, "cost": limit.cost,
        "shared": limit.shared, "projects": budgets,
    }


# What `rate_limits` returns, as the admin API's spec describes it.
RATE_LIMITS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["limit", "window", "strategy", "cost", "projects"],
    "properties": {
        "limit": {"type": "integer"},
        "window": {"type": "integer"},
        "strategy": {"type": "string"},
        "cost": {"type": "string"},
        "shared": {"type": "boolean", "description": "both refresh operations spend one budget per project"},
        "projects": {"type": "array", "items": {
            "type": "object",
            "required": ["project", "limit", "remaining", "reset"],
            "properties": {
                "project": {"type": "string"},
                "limit": {"type": "integer"},
                "remaining": {"type": "integer"},
                "reset": {"type": "string", "description": "when the window ends (RFC 3339)"},
                "operations": {"type": "array", "items": {"type": "string"},
                               "description": "the operations that spend this budget"},
            },
        }},
    },
}


def _limiter(context: ApiContext) -> QuotaLimiter:
    settings = dataclasses.replace(immutable_settings(context.settings).rate_limit, storage=context.limits_storage)
    return QuotaLimiter(settings, context.clock, key_prefix=context.limits_prefix + "immutable")


def _quota(project: str, quota: Quota) -> dict[str, Any]:
    reset = epoch_isoformat(quota.reset)
    return {"project": project, "limit": quota.limit, "remaining": quota.remaining, "reset": reset}
