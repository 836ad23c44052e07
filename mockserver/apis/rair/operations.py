"""RAIR's operations: each operationId of `specs/rair.yaml` and its handler."""

from __future__ import annotations

from typing import Any

from mockserver.apis.base import MULTIPART_OVERHEAD, ApiContext, Handler, UploadedFile, file_urls, read_uploads
from mockserver.apis.rair.ratelimit import client_limit
from mockserver.apis.rair.service import RairRecords, RairService
from mockserver.apis.rair.settings import rair_settings
from mockserver.settings import Settings


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


def state(service: RairService, now: float) -> dict[str, Any]:
    return {"tokens": service.records.tokens()}


def upload_cap(settings: Settings, method: str) -> int | None:
    """An update carries at most `max_files` files of `max_file_bytes`, plus the multipart framing."""
    if method != "POST":
        return None
    section = rair_settings(settings)
    return section.max_files * section.max_file_bytes + MULTIPART_OVERHEAD


def configure_spec(spec: dict[str, Any], settings: Settings) -> None:
    files = spec["components"]["schemas"]["TokenMetadataUpdate"]["properties"]["files"]
    files["maxItems"] = rair_settings(settings).max_files


def build(context: ApiContext) -> RairService:
    return RairService(RairRecords(context.store), context.store.blobs, rair_settings(context.settings),
                       client_limit(context), context.clock)


def configure(service: RairService, context: ApiContext, previous: Settings) -> None:
    service.settings = rair_settings(context.settings)
    service.client_limit = client_limit(context, service.client_limit)


def reset(service: RairService) -> None:
    service.client_limit.reset()


def admit(service: RairService, client: str) -> dict[str, str]:
    return service.admit(client)
