"""The target file: credentials for each API and the resources the server under test is known to have.

Generated requests only reach a server's real logic when they name things that exist and carry credentials
that work, so the suite reads both from a small YAML file (see `example_target.yaml`). Without one it uses
the mock server's default fixtures (`default_target.yaml`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import TargetError

MiB = 1024 * 1024
_HEX_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NETWORK = re.compile(r"^0x[0-9a-fA-F]+$")
_UINT = re.compile(r"^(0|[1-9][0-9]*)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairToken:
    """A RAIR token the owner credential may update: the four path parameters that name it."""

    network: str
    contract: str
    product: int
    token: int

    @property
    def path(self) -> str:
        return f"/api/nft/network/{self.network}/{self.contract}/{self.product}/token/{self.token}"

    def path_parameters(self) -> dict[str, Any]:
        return {
            "networkId": self.network,
            "contract": self.contract,
            "product": self.product,
            "token": self.token,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairTarget:
    """RAIR credentials (owner and non-owner `x-rair-token`) and the tokens the owner owns."""

    owner_token: str = dataclasses.field(repr=False)
    non_owner_token: str | None = dataclasses.field(repr=False, default=None)
    tokens: tuple[RairToken, ...]
    max_files: int = 2
    max_file_bytes: int = 10 * MiB


@dataclasses.dataclass(frozen=True, kw_only=True)
class Collection:
    """An Immutable collection: a chain name and a contract address on it."""

    chain: str
    address: str

    @property
    def base(self) -> str:
        return f"/v1/chains/{self.chain}/collections/{self.address}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableTarget:
    """Immutable keys (refresh scope, read-only, another project's) and a collection of the first key."""

    api_key: str = dataclasses.field(repr=False)
    readonly_api_key: str | None = dataclasses.field(repr=False, default=None)
    foreign_api_key: str | None = dataclasses.field(repr=False, default=None)
    collection: Collection
    foreign_collection: Collection | None = None
    token_ids: tuple[str, ...]
    # How long a refresh may take to show in GET NFT (the real service applies refreshes asynchronously).
    refresh_timeout: float = 10.0
    # Stacked metadata of `collection` (UUIDs), which RefreshMetadataByID refreshes for every NFT carrying it.
    metadata_ids: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenizationTarget:
    """The Tokenization bearer token and a token with its image and document ids."""

    bearer_token: str = dataclasses.field(repr=False)
    token_id: str
    image_ids: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    # Other tokens the credential can read: the isolation check requires them unchanged by updates of `token_id`.
    other_token_ids: tuple[str, ...] = ()
    max_file_bytes: int = 10 * MiB


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """Everything the suite knows about the server under test besides its base URL."""

    source: str
    request_timeout: float = 10.0
    rair: RairTarget
    immutable: ImmutableTarget
    tokenization: TokenizationTarget


def default_target_text() -> str:
    return resources.files("conformance").joinpath("default_target.yaml").read_text(encoding="utf-8")


def load_target(path: str | Path | None = None) -> Target:
    """The target in `path`, or the mock's defaults when `path` is None."""
    if path is None:
        return parse_target(yaml.safe_load(default_target_text()), source="built-in defaults (mock fixtures)")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TargetError(f"cannot read target file {file}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TargetError(f"target file {file} is not valid YAML: {exc}") from exc
    return parse_target(data, source=str(file))


def parse_target(data: Any, *, source: str) -> Target:
    """Build a `Target` from parsed YAML, naming the first key that is missing, unknown or malformed."""
    root = _Section(data, source, "")
    target = Target(
        source=source,
        request_timeout=root.number("request_timeout", 10.0, minimum=0.1),
        rair=_rair(root.section("rair")),
        immutable=_immutable(root.section("immutable")),
        tokenization=_tokenization(root.section("tokenization")),
    )
    root.done()
    return target


def _rair(s: _Section) -> RairTarget:
    tokens = []
    for index, item in enumerate(s.items("tokens")):
        t = _Section(item, s.source, f"{s.prefix}tokens[{index}].")
        tokens.append(
            RairToken(
                network=t.string("network", pattern=_NETWORK),
                contract=t.string("contract", pattern=_ADDRESS),
                product=t.integer("product"),
                token=t.integer("token"),
            )
        )
        t.done()
    if not tokens:
        raise TargetError(f"{s.source}: rair.tokens must list at least one token the owner owns")
    result = RairTarget(
        owner_token=s.string("owner_token"),
        non_owner_token=s.optional_string("non_owner_token"),
        tokens=tuple(tokens),
        max_files=s.integer("max_files", 2),
        max_file_bytes=s.integer("max_file_bytes", 10 * MiB, minimum=1),
    )
    s.done()
    return result


def _collection(s: _Section) -> Collection:
    result = Collection(chain=s.string("chain"), address=s.string("address", pattern=_ADDRESS))
    s.done()
    return result


def _immutable(s: _Section) -> ImmutableTarget:
    token_ids = tuple(str(t) for t in s.items("token_ids"))
    bad = [t for t in token_ids if not _UINT.match(t)]
    if not token_ids or bad:
        raise TargetError(
            f"{s.source}: immutable.token_ids must list decimal token ids of the collection"
            + (f"; not decimal: {', '.join(bad)}" if bad else "")
        )
    foreign = s.optional_section("foreign_collection")
    result = ImmutableTarget(
        api_key=s.string("api_key"),
        readonly_api_key=s.optional_string("readonly_api_key"),
        foreign_api_key=s.optional_string("foreign_api_key"),
        collection=_collection(s.section("collection")),
        foreign_collection=_collection(foreign) if foreign is not None else None,
        token_ids=token_ids,
        refresh_timeout=s.number("refresh_timeout", 10.0, minimum=0),
        metadata_ids=_metadata_ids(s),
    )
    s.done()
    return result


def _metadata_ids(s: _Section) -> tuple[str, ...]:
    metadata_ids = tuple(str(m).lower() for m in s.items("metadata_ids", required=False))
    bad = [m for m in metadata_ids if not _UUID.match(m)]
    if bad:
        raise TargetError(f"{s.source}: immutable.metadata_ids holds ids that are not UUIDs: {', '.join(bad)}")
    return metadata_ids


def _tokenization(s: _Section) -> TokenizationTarget:
    def ids(key: str) -> tuple[str, ...]:
        values = tuple(str(v) for v in s.items(key, required=False))
        bad = [v for v in values if not _HEX_ID.match(v)]
        if bad:
            raise TargetError(
                f"{s.source}: tokenization.{key} holds ids that are not 24 hex digits: {', '.join(bad)}"
            )
        return values

    result = TokenizationTarget(
        bearer_token=s.string("bearer_token"),
        token_id=s.string("token_id", pattern=_HEX_ID),
        image_ids=ids("image_ids"),
        document_ids=ids("document_ids"),
        other_token_ids=ids("other_token_ids"),
        max_file_bytes=s.integer("max_file_bytes", 10 * MiB, minimum=1),
    )
    s.done()
    return result


class _Section:
    """One mapping of the YAML file; remembers which keys were read so unknown ones can be named."""

    def __init__(self, data: Any, source: str, prefix: str) -> None:
        if not isinstance(data, Mapping):
            where = prefix.rstrip(".") or "the top level"
            raise TargetError(f"{source}: {where} must be a mapping")
        self.data: Mapping[str, Any] = data
        self.source = source
        self.prefix = prefix
        self._read: set[str] = set()

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self.data.get(key)

    def _fail(self, key: str, message: str) -> TargetError:
        return TargetError(f"{self.source}: {self.prefix}{key} {message}")

    def section(self, key: str) -> _Section:
        value = self._get(key)
        if value is None:
            raise self._fail(key, "is missing")
        return _Section(value, self.source, f"{self.prefix}{key}.")

    def optional_section(self, key: str) -> _Section | None:
        value = self._get(key)
        return None if value is None else _Section(value, self.source, f"{self.prefix}{key}.")

    def string(self, key: str, *, pattern: re.Pattern[str] | None = None) -> str:
        value = self.optional_string(key)
        if value is None:
            raise self._fail(key, "is missing")
        if pattern is not None and not pattern.match(value):
            raise self._fail(key, f"must match {pattern.pattern}; got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self._fail(key, f"must be a string; got {value!r}")
        if value == "":
            raise self._fail(key, "must not be empty")
        return str(value)

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0) -> int:
        value = self._get(key)
        if value is None:
            if default is None:
                raise self._fail(key, "is missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"must be a whole number ≥ {minimum}; got {value!r}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self._fail(key, f"must be a number ≥ {minimum}; got {value!r}")
        return float(value)

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value = self._get(key)
        if value is None:
            if required:
                raise self._fail(key, "is missing")
            return []
        if not isinstance(value, list):
            raise self._fail(key, f"must be a list; got {value!r}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            names = ", ".join(f"{self.prefix}{key}" for key in unknown)
            raise TargetError(
                f"{self.source}: unknown key {names}; known here: {', '.join(sorted(self._read))}"
            )
