"""RAIR token metadata: owner-only updates of a token's metadata, with media uploads referenced by file name."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict, cast

from mockserver.apis.base import check_file_size, in_seed_order
from mockserver.apis.rair.fixtures import RairContract, RairUser, rair_fixtures
from mockserver.apis.rair.ratelimit import ClientLimit
from mockserver.apis.rair.settings import RairSettings
from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.files import OCTET_STREAM, Upload
from mockserver.fixtures import Fixtures
from mockserver.store import Blobs, Record, RecordSets, Seed, SeedView, Store, copy_record

TEXT_FIELDS = ("name", "description", "artist", "external_url", "image", "animation_url")
FILE_REFERENCE_FIELDS = ("image", "animation_url")
MEDIA_FAMILIES = ("image/", "video/", "audio/")
_ABSOLUTE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# The kinds of record RAIR keeps in the store.
USERS, CONTRACTS, TOKENS = "rair:users", "rair:contracts", "rair:tokens"
# (network, contract, product, token); network and contract in lower case, as stored.
RairKey = tuple[str, str, int, int]


class RairToken(TypedDict):
    """A token record as RAIR's reads return it (`fixtures.py` makes them)."""

    _id: str
    metadataURI: str
    token: int
    ownerAddress: str
    offerPool: float | None
    offer: float | None
    contract: str
    uniqueIndexInContract: int
    isMinted: bool
    isURIStoredToBlockchain: bool
    metadata: dict[str, Any]
    creationDate: str
    authenticityLink: str


def render_error(error: ApiError) -> dict[str, Any]:
    """RAIR's documented error body."""
    return {"success": False, "error": True, "message": error.message}




def seed_part(fixtures: Fixtures) -> tuple[RecordSets, list[tuple[bytes, str]]]:
    """RAIR's records of a store loaded with `fixtures` (it has no files of its own)."""
    section = rair_fixtures(fixtures)
    return {
        USERS: {(user.credential,): dataclasses.asdict(user) for user in section.users},
        CONTRACTS: {(c.network, c.address): dataclasses.asdict(c) for c in section.contracts},
        TOKENS: dict(section.tokens.items()),
    }, []


class RairRecords:
    """RAIR's records in the store: sessions, contracts and tokens, looked up whatever the address's case."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # Sessions, contracts and which products exist never change but by a load.
        self._fixed = SeedView(store, _FixedRecords.of)

    def user(self, credential: str) -> RairUser | None:
        return self._fixed.get().users.get(credential)

    def contract(self, network: str, address: str) -> RairContract | None:
        return self._fixed.get().contracts.get((network.lower(), address.lower()))

    def has_product(self, network: str, address: str, product: int) -> bool:
        return (network.lower(), address.lower(), product) in self._fixed.get().products

    def token(self, key: RairKey) -> RairToken | None:
        return cast(RairToken | None, self._store.get(TOKENS, _stored_key(key)))

    def has_token(self, key: RairKey) -> bool:
        return self._store.has(TOKENS, _stored_key(key))

    def update_token(self, key: RairKey, metadata: Mapping[str, Any]) -> RairToken:
        """Merge `metadata` into the token's metadata; the new URI is no longer on chain."""

        def merge(token: Record) -> None:
            token["metadata"].update(copy_record(dict(metadata)))
            token["isURIStoredToBlockchain"] = False

        updated = self._store.update(TOKENS, _stored_key(key), merge)
        if updated is None:
            raise KeyError(key)
        return cast(RairToken, updated)

    def tokens(self) -> list[RairToken]:
        """Every token, in the fixtures' order."""
        return cast(list[RairToken], in_seed_order(self._store.items(TOKENS), self._store.seed.records.get(TOKENS, {})))


@dataclasses.dataclass(frozen=True)
class _FixedRecords:
    users: dict[str, RairUser]
    contracts: dict[tuple[str, str], RairContract]
    products: frozenset[tuple[str, str, int]]

    @classmethod
    def of(cls, seed: Seed) -> _FixedRecords:
        users = [RairUser(**record) for record in seed.records.get(USERS, {}).values()]
        contracts = [RairContract(**record) for record in seed.records.get(CONTRACTS, {}).values()]
        return cls(
            users={user.credential: user for user in users},
            contracts={(c.network.lower(), c.address.lower()): c for c in contracts},
            products=frozenset((str(key[0]).lower(), str(key[1]).lower(), int(key[2]))
                               for key in seed.records.get(TOKENS, {})),
        )


def _stored_key(key: RairKey) -> RairKey:
    network, address, product, token = key
    return network.lower(), address.lower(), product, token


class RairService:
    """Reads and owner-only updates of RAIR tokens."""

    def __init__(self, records: RairRecords, blobs: Blobs, settings: RairSettings, client_limit: ClientLimit,
                 clock: Clock) -> None:
        self.records = records
        self._blobs = blobs
        self.settings = settings
        self.client_limit = client_limit
        self._clock = clock

    def admit(self, client: str) -> dict[str, str]:
        """Count a request from the client address `client` against RAIR's server-wide limit (see `ratelimit`)."""
        return self.client_limit.admit(client, self._clock.time())

    def authenticate(self, credential: str) -> RairUser:
        user = self.records.user(credential)
        if user is None:
            raise ApiError(401, "Invalid x-rair-token: it matches no user session.", field="x-rair-token")
        return user

    def get_token(self, network: str, contract: str, product: int, token: int) -> RairToken:
        self._locate(network, contract, product, token)
        found = self.records.token((network, contract, product, token))
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
    ) -> RairToken:
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
                changes[name] = file_url(self._blobs.put(upload.data, _media_type(upload)))
        return self.records.update_token((network, contract, product, token), changes)

    def _check_uploads(self, uploads: Sequence[Upload]) -> None:
        if len(uploads) > self.settings.max_files:
            raise ApiError(400, f"Too many files: at most {self.settings.max_files} per request.", field="files")
        for upload in uploads:
            check_file_size(upload, self.settings.max_file_bytes)
            media_type = _media_type(upload)
            if not media_type.startswith(MEDIA_FAMILIES):
                raise ApiError(
                    415, f"File {upload.filename!r} is {media_type}; only image, video and audio files are accepted.",
                    field="files",
                )

    def _locate(self, network: str, contract: str, product: int, token: int) -> str:
        """Check the path names a token and return its contract's owner."""
        found = self.records.contract(network, contract)
        if found is None:
            raise ApiError(404, f"Contract {contract} not found on network {network}.", field="contract")
        if not self.records.has_product(network, contract, product):
            raise ApiError(404, f"Product {product} not found in contract {contract}.", field="product")
        if not self.records.has_token((network, contract, product, token)):
            raise ApiError(404, f"Token {token} not found in product {product}.", field="token")
        return found.owner


def _media_type(upload: Upload) -> str:
    """The declared type, or the sniffed one when the client declared none or only octet-stream."""
    declared = (upload.declared_type or "").split(";")[0].strip().lower()
    if declared and declared != OCTET_STREAM:
        return declared
    return upload.sniffed_type or declared or OCTET_STREAM
