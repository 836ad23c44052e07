"""Immutable's operations: each operationId of `specs/immutable.yaml` and its handler."""

from __future__ import annotations

import json
from typing import Any

from mockserver.apis.base import Handler
from mockserver.apis.immutable.service import ImmutableService


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

    return {"RefreshNFTMetadataByTokenID": RefreshNFTMetadataByTokenID, "GetNFT": GetNFT, "ListNFTs": ListNFTs}


def principal(service: ImmutableService, api_key: str) -> dict[str, Any]:
    return {"sub": api_key, "key": service.authenticate(api_key)}


def state(service: ImmutableService, now: float) -> dict[str, Any]:
    return {"nfts": service.records.all_nfts(now=now), "pending_refreshes": service.records.pending_refreshes()}


def forced_429_headers(service: ImmutableService) -> dict[str, str]:
    """A forced 429 carries the quota headers of a real one, without spending the quota."""
    quota = service.limiter.peek("forced")
    headers = service.quota_headers(quota)
    del headers["retry-after"]
    headers["Retry-After"] = str(quota.seconds_to_reset(service.now()))
    return headers
