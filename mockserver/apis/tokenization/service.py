"""Tokenization TR admin tokens: replace a token's details, add and remove its images and documents."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mockserver.apis.base import check_file_size, in_seed_order
from mockserver.apis.tokenization.fixtures import tokenization_fixtures
from mockserver.apis.tokenization.settings import TokenizationSettings
from mockserver.clock import Clock, isoformat
from mockserver.errors import ApiError
from mockserver.files import OCTET_STREAM, Upload, digest
from mockserver.fixtures import Fixtures, object_id
from mockserver.store import Blobs, Record, RecordSets, SeedView, Store

ALLOWED_TYPES = {
    "images": frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"}),
    "documents": frozenset({"application/pdf"}),
}
_KIND_WORDS = {"images": "PNG, JPEG, WebP or GIF images", "documents": "PDF documents"}
_REMOVALS = {"remove_image_ids": "images", "remove_document_ids": "documents"}
# The kinds of record Tokenization keeps in the store: bearer tokens, tokens, and each attachment's blob key.
BEARERS, TOKENS, ATTACHMENTS = "tokenization:bearers", "tokenization:tokens", "tokenization:attachments"
# Changes a token in place and returns the blob keys of the attachments it added, by attachment id.
TokenChange = Callable[[Record], Mapping[str, str]]


def render_error(error: ApiError) -> dict[str, Any]:
    """The mock's error body for this API (the vendor publishes none): status, message and the field at fault."""
    return {"status": error.status, "message": error.message, "field": error.field}




def seed_part(fixtures: Fixtures) -> tuple[RecordSets, list[tuple[bytes, str]]]:
    """Tokenization's records and files of a store loaded with `fixtures`."""
    section = tokenization_fixtures(fixtures)
    return {
        BEARERS: {(bearer,): {} for bearer in section.bearers},
        TOKENS: {(token_id,): token for token_id, token in section.tokens.items()},
        ATTACHMENTS: {(a.id,): {"blob": digest(a.data)} for a in section.attachments},
    }, [(a.data, a.content_type) for a in section.attachments]


class TokenizationRecords:
    """Tokenization's records in the store: bearer tokens, tokens (by id in any case) and attachments' files."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # The bearer tokens never change but by a load.
        self._bearers = SeedView(store, lambda seed: frozenset(str(key[0]) for key in seed.records.get(BEARERS, {})))

    def bearer_known(self, token: str) -> bool:
        return token in self._bearers.get()

    def token(self, token_id: str) -> Record | None:
        return self._store.get(TOKENS, (token_id.lower(),))

    def update_token(self, token_id: str, change: TokenChange) -> Record | None:
        """Apply `change` to a copy of the token and store the result and its new blobs, as one atomic step.

        `change` may run more than once (see `Store.update`); an exception from it stores nothing. Returns the
        token as stored, or None when there is no such token.
        """

        def change_and_record_blobs(token: Record) -> RecordSets:
            return {ATTACHMENTS: {(attachment_id,): {"blob": key} for attachment_id, key in change(token).items()}}

        return self._store.update(TOKENS, (token_id.lower(),), change_and_record_blobs)

    def tokens(self) -> list[Record]:
        """Every token, in the fixtures' order."""
        return in_seed_order(self._store.items(TOKENS), self._store.seed.records.get(TOKENS, {}))

    def attachment_blob(self, attachment_id: str) -> str:
        """The blob key of an attachment of a stored token."""
        found = self._store.get(ATTACHMENTS, (attachment_id,))
        if found is None:  # pragma: no cover - an attachment is recorded in the same step as its token
            raise LookupError(f"attachment {attachment_id} has no file")
        blob: str = found["blob"]
        return blob

    def attachment_blobs(self) -> dict[str, str]:
        """The blob key of every attachment, by attachment id."""
        return {str(key[0]): record["blob"] for key, record in self._store.items(ATTACHMENTS)}


class TokenizationService:
    """Reads and updates of Tokenization tokens."""

    def __init__(self, records: TokenizationRecords, blobs: Blobs, settings: TokenizationSettings,
                 clock: Clock) -> None:
        self.records = records
        self._blobs = blobs
        self.settings = settings
        self._clock = clock

    def authenticate(self, bearer: str) -> str:
        if not self.records.bearer_known(bearer):
            raise ApiError(401, "Invalid bearer token.", field="Authorization")
        return bearer

    def get_token(self, token_id: str, file_url: Callable[[str], str]) -> dict[str, Any]:
        token = self._find(token_id)
        token.pop("supply", None)
        for kind in ("images", "documents"):
            for attachment in token["meta"][kind]:
                attachment["url"] = file_url(self.records.attachment_blob(attachment["id"]))
        return token

    def update_token(self, token_id: str, form: Mapping[str, Any], uploads: Sequence[Upload]) -> None:
        """Apply an update; nothing is stored when any check fails."""
        self._find(token_id)
        for field in ("total_value", "salable_percentage"):
            value = form.get(field)
            if isinstance(value, float) and not math.isfinite(value):
                raise ApiError(400, f"{field} must be a finite number; got {value}.", field=field)
        now = self._clock.time()
        # Changing and storing the token is one atomic step (repeated if a concurrent update got in first, as
        # with a shared store), so the checks that depend on the stored token run inside it.
        updated = self.records.update_token(token_id, lambda token: self._apply(token, form, uploads, now))
        if updated is None:
            raise ApiError(404, f"Token {token_id} not found.", field="token_id")

    def _apply(self, token: dict[str, Any], form: Mapping[str, Any], uploads: Sequence[Upload],
               now: float) -> dict[str, str]:
        """Change `token` as the update says; return the blob keys of the attachments it added, by id."""
        removals = {kind: self._removal_ids(token, field, form.get(field)) for field, kind in _REMOVALS.items()}
        typed = [(upload, self._check_upload(upload)) for upload in uploads]

        token["name"] = form["name"]
        token["description"] = form["description"]
        for field in ("currency_token_id", "salable_percentage"):
            if form.get(field) is not None:
                token[field] = form[field]
        if form.get("total_value") is not None:
            token["value"]["total_value"] = form["total_value"]
        if token.get("supply") and token["value"]["total_value"] is not None:
            token["value"]["token_price"] = token["value"]["total_value"] / token["supply"]
        if form.get("oracle_id") is not None:
            token["oracle"]["id"] = form["oracle_id"]
        if form.get("oracle_code") is not None:
            token["oracle"]["code"] = form["oracle_code"]
        for kind, ids in removals.items():
            token["meta"][kind] = [a for a in token["meta"][kind] if a["id"] not in ids]
        blobs: dict[str, str] = {}
        for position, (upload, media_type) in enumerate(typed):
            key = self._blobs.put(upload.data, media_type)
            attachment_id = object_id("attachment", token["id"], key, now, position)
            blobs[attachment_id] = key
            token["meta"][upload.field].append({"id": attachment_id, "name": upload.filename,
                                                "content_type": media_type, "size": len(upload.data)})
        token["updated_at"] = isoformat(datetime.fromtimestamp(now, tz=UTC))
        return blobs

    def _find(self, token_id: str) -> dict[str, Any]:
        token = self.records.token(token_id)
        if token is None:
            raise ApiError(404, f"Token {token_id} not found.", field="token_id")
        return token

    def _removal_ids(self, token: Mapping[str, Any], field: str, raw: str | None) -> set[str]:
        kind = _REMOVALS[field]
        ids = {part.strip().lower() for part in (raw or "").split(",") if part.strip()}
        owned = {attachment["id"] for attachment in token["meta"][kind]}
        stray = sorted(ids - owned)
        if stray:
            raise ApiError(400, f"{field}: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not among "
                                f"the {kind} of token {token['id']}.", field=field)
        return ids

    def _check_upload(self, upload: Upload) -> str:
        """The upload's media type once size and type pass; judged by content, and by the declared type if any."""
        check_file_size(upload, self.settings.max_file_bytes)
        allowed = ALLOWED_TYPES[upload.field]
        sniffed = upload.sniffed_type
        declared = (upload.declared_type or "").split(";")[0].strip().lower()
        declared_ok = declared in ("", OCTET_STREAM) or declared in allowed
        accepts = f"{upload.field} accepts only {_KIND_WORDS[upload.field]}"
        if sniffed not in allowed:
            shown = f"its content is {sniffed}" if sniffed else "its content is of no recognised type"
            claimed = f" (declared as {declared})" if declared else ""
            raise ApiError(415, f"File {upload.filename!r}{claimed}: {shown}; {accepts}.", field=upload.field)
        if not declared_ok:
            raise ApiError(415, f"File {upload.filename!r} is declared as {declared} although its content is "
                                f"{sniffed}; {accepts}.", field=upload.field)
        return sniffed
