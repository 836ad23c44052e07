"""Connexion handlers: unpack the validated request, call the API's service, shape the response."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from starlette.datastructures import UploadFile

from mockserver.errors import ApiError
from mockserver.files import Upload
from mockserver.services import Services

Handler = Callable[..., Any]
FILES_PREFIX = "/files/"


class Handlers:
    """One method per operationId of the three specs, bound to the server's services.

    Each takes the operation's parameters and body as keywords, plus `token_info` (what the security check
    returned) and `base_url` (where the client reached this server), so that both Connexion and the fast path
    (`mockserver.web.fastpath`) can call it.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        # Keyed by API as well: RAIR and Tokenization both name their read `getToken`.
        self._by_operation: dict[tuple[str, str], Handler] = {
            ("rair", "updateTokenMetadata"): self.rair_update,
            ("rair", "getToken"): self.rair_get,
            ("immutable", "RefreshNFTMetadataByTokenID"): self.immutable_refresh,
            ("immutable", "GetNFT"): self.immutable_get_nft,
            ("immutable", "ListNFTs"): self.immutable_list_nfts,
            ("tokenization", "updateToken"): self.tokenization_update,
            ("tokenization", "getToken"): self.tokenization_get,
        }

    def handler(self, api: str, operation_id: str) -> Handler:
        """The handler of one operation of one API."""
        try:
            return self._by_operation[(api, operation_id)]
        except KeyError:
            raise LookupError(f"no handler for {api} operationId {operation_id!r}") from None

    def resolver(self, api: str) -> Callable[[str], Handler]:
        """Connexion's `function_resolver` for one API: its handler for an operationId, given the base URL.

        Connexion passes the security check's result as `token_info` (to any handler taking `**kwargs`).
        """

        def resolve(operation_id: str) -> Handler:
            handler = self.handler(api, operation_id)
            if not wants_base_url(handler):
                return handler

            @functools.wraps(handler)  # Connexion reads the handler's signature to pick its arguments
            async def with_base_url(**kwargs: Any) -> Any:
                return await handler(**kwargs, base_url=str(request.base_url))

            return with_base_url

        return resolve

    # RAIR

    async def rair_get(self, networkId: str, contract: str, product: int, token: int, **_: Any) -> Any:
        return {"success": True, "result": self._services.rair.get_token(networkId, contract, product, token)}

    async def rair_update(
        self, networkId: str, contract: str, product: int, token: int, token_info: dict[str, Any], base_url: str,
        body: dict[str, Any] | None = None, files: list[UploadFile] | None = None, **_: Any,
    ) -> Any:
        uploads = await _uploads("files", files or [], self._services.settings.rair.max_file_bytes)
        updated = self._services.rair.update_token(
            token_info["user"], networkId, contract, product, token, body or {}, uploads, _file_urls(base_url)
        )
        return {"success": True, "token": updated}

    # Immutable

    async def immutable_refresh(
        self, chain_name: str, contract_address: str, body: dict[str, Any] | bytes, token_info: dict[str, Any], **_: Any
    ) -> Any:
        # Sent without Content-Type, the body was validated as JSON (the only type the operation takes) but
        # reaches here unparsed.
        parsed: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else body
        accepted = self._services.immutable.refresh(
            token_info["key"], chain_name, contract_address, parsed
        )
        return accepted.body, 202, accepted.headers

    async def immutable_get_nft(self, chain_name: str, contract_address: str, token_id: str, **_: Any) -> Any:
        return self._services.immutable.get_nft(chain_name, contract_address, token_id)

    async def immutable_list_nfts(
        self, chain_name: str, contract_address: str, token_id: list[str] | None = None,
        from_updated_at: str | None = None, page_cursor: str | None = None, page_size: int = 100, **_: Any,
    ) -> Any:
        return self._services.immutable.list_nfts(
            chain_name, contract_address, token_ids=token_id, from_updated_at=from_updated_at,
            page_cursor=page_cursor, page_size=page_size,
        )

    # Tokenization

    async def tokenization_get(self, token_id: str, base_url: str, **_: Any) -> Any:
        return self._services.tokenization.get_token(token_id, _file_urls(base_url))

    async def tokenization_update(
        self, token_id: str, body: dict[str, Any] | None = None, images: list[UploadFile] | None = None,
        documents: list[UploadFile] | None = None, **_: Any,
    ) -> Any:
        limit = self._services.settings.tokenization.max_file_bytes
        uploads = [*await _uploads("images", images or [], limit), *await _uploads("documents", documents or [], limit)]
        self._services.tokenization.update_token(token_id, body or {}, uploads)
        return ConnexionResponse(status_code=200, body=b"", content_type=None)


def wants_base_url(handler: Handler) -> bool:
    """Whether a handler builds URLs to this server (and so needs `base_url`)."""
    return "base_url" in inspect.signature(handler).parameters


async def _uploads(field: str, files: Iterable[UploadFile], limit: int) -> list[Upload]:
    """Read each uploaded file, stopping one byte past `limit` so an oversize file is never read whole."""
    uploads = []
    for file in files:
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, f"File {file.filename!r} is larger than the {limit} byte limit.", field=field)
        uploads.append(Upload(field=field, filename=file.filename or "", declared_type=file.content_type, data=data))
    return uploads


def _file_urls(base_url: str) -> Callable[[str], str]:
    """Where this server serves a stored file, by its key, as seen by the client that asked."""
    prefix = base_url.rstrip("/") + FILES_PREFIX
    return lambda key: prefix + key
