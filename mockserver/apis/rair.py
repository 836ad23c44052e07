"""RAIR token metadata: owner-only updates of a token's metadata, with media uploads referenced by file name."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockserver.apis import ApiInfo
from mockserver.errors import ApiError
from mockserver.files import OCTET_STREAM, Upload
from mockserver.fixtures import RairUser
from mockserver.settings import RairSettings
from mockserver.store import Store

TEXT_FIELDS = ("name", "description", "artist", "external_url", "image", "animation_url")
FILE_REFERENCE_FIELDS = ("image", "animation_url")
MEDIA_FAMILIES = ("image/", "video/", "audio/")
_ABSOLUTE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def render_error(error: ApiError) -> dict[str, Any]:
    """RAIR's documented error body."""
    return {"success": False, "error": True, "message": error.message}


INFO = ApiInfo(
    name="rair",
    title="RAIR token metadata",
    spec_file="rair.yaml",
    prefix="/api/nft/",
    render_error=render_error,
    credential_header="x-rair-token",
    missing_credentials="Missing x-rair-token header: send the session token of the contract owner.",
    oversize_status=413,
)


class RairService:
    """Reads and owner-only updates of RAIR tokens."""

    def __init__(self, store: Store, settings: RairSettings) -> None:
        self._store = store
        self.settings = settings

    def authenticate(self, credential: str) -> RairUser:
        user = self._store.rair_user(credential)
        if user is None:
            raise ApiError(401, "Invalid x-rair-token: it matches no user session.", field="x-rair-token")
        return user

    def get_token(self, network: str, contract: str, product: int, token: int) -> dict[str, Any]:
        self._locate(network, contract, product, token)
        found = self._store.rair_token((network, contract, product, token))
        assert found is not None  # _locate found it
        return found

    def update_token(
        self,
        user: RairUser,
        network: str,
        contract: str,
        product: int,
        token: int,
        form: Mapping[str, Any],
        uploads: Sequence[Upload],
        file_url: Callable[[str], str],
    ) -> dict[str, Any]:
        """Apply an update and return the token as stored; nothing is stored when any check fails."""
        owner = self._locate(network, contract, product, token)
        if owner.lower() != user.address.lower():
            raise ApiError(403, f"You have no permissions for updating token {token}.")
        changes = {name: form[name] for name in (*TEXT_FIELDS, "attributes") if form.get(name) is not None}
        if not changes:
            raise ApiError(400, "Nothing to update.")
        self._check_uploads(uploads)
        by_name = {upload.filename: upload for upload in uploads}
        for name in FILE_REFERENCE_FIELDS:
            value = changes.get(name)
            if value is None or _ABSOLUTE_URL.match(value):
                continue
            if value not in by_name:
                uploaded = ", ".join(sorted(by_name)) or "none"
                raise ApiError(
                    400,
                    f"{name} names the file {value!r}, which was not uploaded in this request "
                    f"(uploaded: {uploaded}); give an uploaded file's full name or an absolute URL.",
                    field=name,
                )
        # Every check passed: only now do uploads become stored files.
        for name in FILE_REFERENCE_FIELDS:
            upload = by_name.get(changes.get(name, ""))
            if upload is not None:
                changes[name] = file_url(self._store.blobs.put(upload.data, _media_type(upload)))
        return self._store.update_rair_token((network, contract, product, token), changes)

    def _check_uploads(self, uploads: Sequence[Upload]) -> None:
        if len(uploads) > self.settings.max_files:
            raise ApiError(400, f"Too many files: at most {self.settings.max_files} per request.", field="files")
        for upload in uploads:
            if len(upload.data) > self.settings.max_file_bytes:
                raise ApiError(
                    413, f"File {upload.filename!r} is larger than the {self.settings.max_file_bytes} byte limit.",
                    field="files",
                )
            media_type = _media_type(upload)
            if not media_type.startswith(MEDIA_FAMILIES):
                raise ApiError(
                    415, f"File {upload.filename!r} is {media_type}; only image, video and audio files are accepted.",
                    field="files",
                )

    def _locate(self, network: str, contract: str, product: int, token: int) -> str:
        """Check the path names a token and return its contract's owner."""
        found = self._store.rair_contract(network, contract)
        if found is None:
            raise ApiError(404, f"Contract {contract} not found on network {network}.", field="contract")
        if not self._store.rair_has_product(network, contract, product):
            raise ApiError(404, f"Product {product} not found in contract {contract}.", field="product")
        if self._store.rair_token((network, contract, product, token)) is None:
            raise ApiError(404, f"Token {token} not found in product {product}.", field="token")
        return found.owner


def _media_type(upload: Upload) -> str:
    """The declared type, or the sniffed one when the client declared none or only octet-stream."""
    declared = (upload.declared_type or "").split(";")[0].strip().lower()
    if declared and declared != OCTET_STREAM:
        return declared
    return upload.sniffed_type or declared or OCTET_STREAM
