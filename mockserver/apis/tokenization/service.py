"""Tokenization TR admin tokens: replace a token's details, add and remove its images and documents."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from mockserver.apis.base import check_file_size, in_seed_order
from mockserver.apis.tokenization.fixtures import currency_value, tokenization_fixtures
from mockserver.apis.tokenization.settings import TokenizationSettings
from mockserver.apis.tokenization.shapes import Currency, CurrencyValue, Document, Image, Token
from mockserver.clock import Clock, epoch_isoformat
from mockserver.errors import ApiError
from mockserver.files import OCTET_STREAM, Upload
from mockserver.fixtures import Fixtures, object_id
from mockserver.store import Blobs, Record, RecordSets, SeedView, Store

ALLOWED_TYPES = {
    "images": frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"}),
    "documents": frozenset({"application/pdf"}),
}
_KIND_WORDS = {"images": "PNG, JPEG, WebP or GIF images", "documents": "PDF documents"}
_REMOVALS = {"remove_image_ids": "images", "remove_document_ids": "documents"}
# The vendor's `meta.documents[].type` for a standard document: what every uploaded document is.
STANDARD_DOCUMENT = 1
# The kinds of record Tokenization keeps in the store: bearer tokens, currencies and tokens. A token's files are
# blobs under their sha256, which its `meta` lists as each file's `hash`.
BEARERS, CURRENCIES, TOKENS = "tokenization:bearers", "tokenization:currencies", "tokenization:tokens"


def render_error(error: ApiError) -> dict[str, Any]:
    """The mock's error body for this API (the vendor publishes none): status, message and the field at fault."""
    return {"status": error.status, "message": error.message, "field": error.field}


def seed_part(fixtures: Fixtures) -> tuple[RecordSets, list[tuple[bytes, str]]]:
    """Tokenization's records and files of a store loaded with `fixtures`."""
    section = tokenization_fixtures(fixtures)
    return {
        BEARERS: {(bearer,): {} for bearer in section.bearers},
        CURRENCIES: {(currency_id,): currency for currency_id, currency in section.currencies.items()},
        TOKENS: {(token_id,): token for token_id, token in section.tokens.items()},
    }, [(a.data, a.content_type) for a in section.attachments]


class TokenizationRecords:
    """Tokenization's records in the store: bearer tokens, currencies and tokens (by id in any case)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # Bearer tokens and currencies never change but by a load.
        self._bearers = SeedView(store, lambda seed: frozenset(str(key[0]) for key in seed.records.get(BEARERS, {})))
        self._currencies = SeedView(store, lambda seed: {
            str(key[0]): cast(Currency, record) for key, record in seed.records.get(CURRENCIES, {}).items()
        })

    def bearer_known(self, token: str) -> bool:
        return token in self._bearers.get()

    def currencies(self) -> Mapping[str, Currency]:
        return self._currencies.get()

    def token(self, token_id: str) -> Token | None:
        return cast(Token | None, self._store.get(TOKENS, (token_id.lower(),)))

    def update_token(self, token_id: str, change: Callable[[Token], None]) -> bool:
        """Apply `change` to a copy of the token and store the result, as one atomic step.

        `change` may run more than once (see `Store.update`); an exception from it stores nothing. Returns
        whether there is such a token (the update answers no token, so none is copied back).
        """

        def change_token(record: Record) -> RecordSets:
            change(cast(Token, record))
            return {}

        return self._store.change(TOKENS, (token_id.lower(),), change_token)

    def tokens(self) -> list[Token]:
        """Every token, in the fixtures' order."""
        return cast(list[Token], in_seed_order(self._store.items(TOKENS), self._store.seed.records.get(TOKENS, {})))


def with_file_urls(token: Token, file_url: Callable[[str], str]) -> Token:
    """`token` with the URL each of its files is served at (files are served under their hash)."""
    for image in token["meta"]["images"]:
        image["url"] = file_url(image["hash"])
    for document in token["meta"]["documents"]:
        document["url"] = file_url(document["hash"])
    return token


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

    def get_token(self, token_id: str, file_url: Callable[[str], str]) -> Token:
        token = self._find(token_id)
        token.pop("supply", None)
        return with_file_urls(token, file_url)

    def update_token(self, token_id: str, form: Mapping[str, Any], uploads: Sequence[Upload]) -> None:
        """Apply an update; nothing is stored when any check fails, and an unknown token is 404 before any 400."""
        now = self._clock.time()
        # Changing and storing the token is one atomic step (repeated if a concurrent update got in first, as
        # with a shared store), so every check runs inside it: the store finds the token (or answers None) once,
        # rather than after a first lookup that copied the whole token only to see that it exists.
        found = self.records.update_token(token_id, lambda token: self._apply(token, form, uploads, now))
        if not found:
            raise ApiError(404, f"Token {token_id} not found.", field="token_id")

    def _apply(self, token: Token, form: Mapping[str, Any], uploads: Sequence[Upload], now: float) -> None:
        """Change `token` as the update says (how each field maps: the reference's last paragraph, in the spec)."""
        for number in ("total_value", "salable_percentage"):
            given = form.get(number)
            if isinstance(given, float) and not math.isfinite(given):
                raise ApiError(400, f"{number} must be a finite number; got {given}.", field=number)
        removals = {kind: self._removal_ids(token, field, form.get(field)) for field, kind in _REMOVALS.items()}
        typed = [(upload, self._check_upload(upload)) for upload in uploads]
        stamp = epoch_isoformat(now)

        token["name"] = form["name"]
        token["description"] = form["description"]
        value = token["value"]
        if form.get("currency_token_id") is not None:
            currency_id = form["currency_token_id"].lower()
            for field in ("token_price", "total_value"):
                value[field] = cast(CurrencyValue, currency_value(self.records.currencies(), currency_id,
                                                                  value[field]["amount"]))
        if form.get("total_value") is not None:
            value["total_value"]["amount"] = form["total_value"]
            if token.get("supply"):
                value["token_price"]["amount"] = form["total_value"] / token["supply"]
        if form.get("salable_percentage") is not None:
            value["salable_percentage"] = form["salable_percentage"]
        if form.get("oracle_id") is not None:
            token["oracle"]["id"] = form["oracle_id"]
        if form.get("oracle_code") is not None:
            token["oracle"]["code"] = form["oracle_code"]
        meta = token["meta"]
        meta["images"] = [image for image in meta["images"] if image["id"] not in removals["images"]]
        meta["documents"] = [doc for doc in meta["documents"] if doc["id"] not in removals["documents"]]
        for position, (upload, media_type) in enumerate(typed):
            key = self._blobs.put(upload.data, media_type)
            file_id = object_id("attachment", token["id"], key, now, position)
            if upload.field == "images":
                meta["images"].append(Image(id=file_id, is_default=False, hash=key, created_at=stamp, deleted_at=None))
            else:
                meta["documents"].append(Document(id=file_id, name=upload.filename, type=STANDARD_DOCUMENT, hash=key,
                                                  created_at=stamp, deleted_at=None))
        if meta["images"] and not any(image["is_default"] for image in meta["images"]):
            meta["images"][0]["is_default"] = True
        token["updated_at"] = stamp

    def _find(self, token_id: str) -> Token:
        token = self.records.token(token_id)
        if token is None:
            raise ApiError(404, f"Token {token_id} not found.", field="token_id")
        return token

    def _removal_ids(self, token: Token, field: str, raw: str | None) -> set[str]:
        kind = _REMOVALS[field]
        ids = {part.strip().lower() for part in (raw or "").split(",") if part.strip()}
        files: list[Image] | list[Document] = token["meta"]["images" if kind == "images" else "documents"]
        owned = {file["id"] for file in files}
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
