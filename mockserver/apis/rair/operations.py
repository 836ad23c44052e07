"""RAIR's operations: each operationId of `specs/rair.yaml` and its handler."""

from __future__ import annotations

from typing import Any

from mockserver.apis.base import Handler, UploadedFile, file_urls, read_uploads
from mockserver.apis.rair.service import RairService


def operations(service: RairService) -> dict[str, Handler]:
    async def getToken(networkId: str, contract: str, product: int, token: int, **_: Any) -> Any:
        return {"success": True, "result": service.get_token(networkId, contract, product, token)}

    async def updateTokenMetadata(
        networkId: str, contract: str, product: int, token: int, token_info: dict[str, Any], base_url: str,
        body: dict[str, Any] | None = None, files: list[UploadedFile] | None = None, **_: Any,
    ) -> Any:
        uploads = await read_uploads("files", files or [], service.settings.max_file_bytes)
        updated = service.update_token(
            token_info["user"], networkId, contract, product, token, body or {}, uploads, file_urls(base_url)
        )
        return {"success": True, "token": updated}

    return {"getToken": getToken, "updateTokenMetadata": updateTokenMetadata}


def principal(service: RairService, credential: str) -> dict[str, Any]:
    return {"sub": credential, "user": service.authenticate(credential)}
