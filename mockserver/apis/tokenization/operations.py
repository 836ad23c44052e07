"""Tokenization's operations: each operationId of `specs/tokenization.yaml` and its handler."""

from __future__ import annotations

from typing import Any

from mockserver.apis.base import ApiContext, Handler, Reply, UploadedFile, file_urls, read_uploads
from mockserver.apis.tokenization.service import TokenizationRecords, TokenizationService, with_file_urls
from mockserver.apis.tokenization.settings import tokenization_settings
from mockserver.files import FILES_PREFIX
from mockserver.settings import Settings


def operations(service: TokenizationService) -> dict[str, Handler]:
    async def getToken(token_id: str, base_url: str, **_: Any) -> Any:
        return service.get_token(token_id, file_urls(base_url))

    async def updateToken(
        token_id: str, body: dict[str, Any] | None = None, images: list[UploadedFile] | None = None,
        documents: list[UploadedFile] | None = None, **_: Any,
    ) -> Any:
        limit = service.settings.max_file_bytes
        uploads = [*await read_uploads("images", images or [], limit),
                   *await read_uploads("documents", documents or [], limit)]
        service.update_token(token_id, body or {}, uploads)
        return Reply(200)  # the vendor answers an empty 200, without Content-Type

    return {"getToken": getToken, "updateToken": updateToken}


def principal(service: TokenizationService, bearer: str) -> dict[str, Any]:
    return {"sub": service.authenticate(bearer)}


def state(service: TokenizationService, now: float) -> dict[str, Any]:
    """The tokens, their attachments with the URL their file is served at, so the page can show them."""
    return {"tokens": [with_file_urls(token, lambda key: f"{FILES_PREFIX}{key}") for token in service.records.tokens()]}


def upload_cap(settings: Settings, method: str) -> int | None:
    return tokenization_settings(settings).max_request_bytes if method == "PUT" else None


def build(context: ApiContext) -> TokenizationService:
    return TokenizationService(TokenizationRecords(context.store), context.store.blobs,
                               tokenization_settings(context.settings), context.clock)


def configure(service: TokenizationService, context: ApiContext, previous: Settings) -> None:
    service.settings = tokenization_settings(context.settings)
