"""A small Immutable look-alike that gets the contract wrong in known ways, one per NFT or collection.

Each fault is a rule of `conformance.traffic` that the validating proxy and `validate-traffic` must report.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

CHAIN = "imtbl-zkevm-testnet"
COLLECTION = "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
OTHER_COLLECTION = "0xe9b00a87700f660e46b6f5deaa1232836bcc07d3"
NFTS = f"/v1/chains/{CHAIN}/collections/{COLLECTION}/nfts"
OTHER_NFTS = f"/v1/chains/{CHAIN}/collections/{OTHER_COLLECTION}/nfts"

# token id -> the rule its GET breaks
GET_FAULTS = {
    "1": "response-schema",           # a 200 body without the NFT's required fields
    "2": "documented-content-type",   # a 200 in text/plain
    "3": "documented-status",         # 418, which GetNFT does not document (in Immutable's error shape)
    "4": "error-shape",               # a documented 404 in a shape of its own
}
# collection -> the rule its refresh breaks
REFRESH_FAULTS = {
    COLLECTION: "documented-headers",     # a 202 without the rate-limit headers
    OTHER_COLLECTION: "rate-limit-coherent",  # more remaining than the limit, and a reset that is no time
}
IMMUTABLE_ERROR = {"message": "I'm a teapot", "link": "https://docs.immutable.com", "trace_id": "0" * 32,
                   "code": "TEAPOT", "details": None}
REFRESH_BODY = {"imx_refreshes_limit": "10", "imx_refresh_limit_reset": "2026-01-01 01:00:00.000000 +0000 UTC",
                "imx_remaining_refreshes": "9", "retry_after": "0"}


async def get_nft(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    if token_id == "1":
        return JSONResponse({"result": {"token_id": "1"}})
    if token_id == "2":
        return PlainTextResponse("Sword")
    if token_id == "3":
        return JSONResponse(IMMUTABLE_ERROR, status_code=418)
    if token_id == "4":
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse({**IMMUTABLE_ERROR, "code": "RESOURCE_NOT_FOUND", "message": "no such NFT"}, status_code=404)


async def refresh(request: Request) -> Response:
    await request.body()
    if request.path_params["contract_address"] == COLLECTION:
        return JSONResponse(REFRESH_BODY, status_code=202)
    headers = {"imx-refreshes-limit": "10", "imx-remaining-refreshes": "11",
               "imx-refresh-limit-reset": "in an hour", "retry-after": "0"}
    return JSONResponse({**REFRESH_BODY, "imx_remaining_refreshes": "11"}, status_code=202, headers=headers)


def faulty_upstream() -> Starlette:
    base = "/v1/chains/{chain_name}/collections/{contract_address}/nfts"
    return Starlette(routes=[
        Route(base + "/refresh-metadata", refresh, methods=["POST"]),
        Route(base + "/{token_id}", get_nft, methods=["GET"]),
    ])
