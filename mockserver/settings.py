"""The one home of configuration: defaults, then a YAML file, then the environment, then CLI flags.

Every setting has a dotted name (`immutable.rate_limit.limit`). A YAML file nests by the dots, an environment
variable joins them with double underscores after the `MOCKSERVER_` prefix
(`MOCKSERVER_IMMUTABLE__RATE_LIMIT__LIMIT=3`), and the CLI takes `--set immutable.rate_limit.limit=3`.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, get_args, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from mockserver.errors import ConfigError

KiB = 1024
MiB = 1024 * 1024
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s]+$", re.IGNORECASE)
ENV_PREFIX = "MOCKSERVER_"
STRATEGIES = ("fixed-window", "sliding-window")
Strategy = Literal["fixed-window", "sliding-window"]
Cost = Literal["request", "item"]
LimitKey = Literal["credential", "client"]
# Settings fixed once the server runs: how it is reached, where its data comes from, what is built into the
# served specs and app (`rair.max_files` is the spec's maxItems).
STARTUP_ONLY = ("host", "port", "fixtures", "validate_responses", "rair.max_files", "cors_origins", "store",
                "store_prefix", "worker_header", "seed", "access_log", "fast_path",
                # Built into the HTTP protocol and the upload slots when the server starts.
                "clients.header_timeout", "clients.max_header_bytes", "clients.max_headers",
                "clients.max_large_bodies")
# The store's URLs: this process's memory, or a Redis server (TCP, TLS or a Unix socket).
MEMORY_URL = "memory://"
REDIS_SCHEMES = ("redis", "rediss", "unix")
# Settings that hold secrets, shown redacted wherever settings are shown (the admin API, the page, reprs): URLs
# whose password is hidden, and values hidden whole.
SECRET_URLS = ("store", "immutable.rate_limit.storage")
SECRET_VALUES = ("admin.token",)
REDACTED = "[redacted]"
# An `admin.allowed_hosts` name: `*`, `*.domain`, a name or an IPv4 address; IPv6 addresses are checked apart.
# Never a port or a scheme (the port is not what DNS rebinding changes).
_HOST_NAME = re.compile(r"\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RateLimitSettings:
    """Immutable's per-project refresh quota; `cost` says whether a refresh spends one unit or one per item."""

    limit: int = 1000
    window: int = 3600
    strategy: Strategy = "fixed-window"
    storage: str = dataclasses.field(default="memory://", repr=False)  # a URL that may hold a password
    cost: Cost = "request"
    # One budget for both refresh operations (by token id and stacked), as the vendor's rate headers describe
    # "the refresh request limit available to the project"; false gives each operation a budget of its own.
    shared: bool = True

    def __post_init__(self) -> None:
        _require(self.limit >= 1, "immutable.rate_limit.limit", "must be at least 1")
        _require(self.window >= 1, "immutable.rate_limit.window", "must be at least 1 second")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OperationLimitSettings:
    """An extra limit on an operation (any API), per credential or per client address; off unless configured."""

    limit: int
    window: int = 60
    key: LimitKey = "credential"
    strategy: Strategy = "fixed-window"

    def __post_init__(self) -> None:
        _require(self.limit >= 1, "operation_limits.*.limit", "must be at least 1")
        _require(self.window >= 1, "operation_limits.*.window", "must be at least 1 second")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FaultSettings:
    """Injected slowness and failures: a delay (fixed, or uniform up to `latency_max_ms`) and an error rate."""

    latency_ms: float = 0.0
    latency_max_ms: float | None = None
    error_rate: float = 0.0
    error_status: int = 500

    def __post_init__(self) -> None:
        _require(self.latency_ms >= 0, "faults.latency_ms", "must not be negative")
        _require(self.latency_max_ms is None or self.latency_max_ms >= self.latency_ms,
                 "faults.latency_max_ms", "must not be below latency_ms")
        _require(0.0 <= self.error_rate <= 1.0, "faults.error_rate", "must be between 0 and 1")
        _require(400 <= self.error_status <= 599, "faults.error_status", "must be a 4xx or 5xx status")

    @property
    def active(self) -> bool:
        return self.latency_ms > 0 or bool(self.latency_max_ms) or self.error_rate > 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class FaultsSettings:
    """Faults for every operation (`default`) and per operation (`operations`, keyed `api/operationId`)."""

    default: FaultSettings = dataclasses.field(default_factory=FaultSettings)
    operations: dict[str, FaultSettings] = dataclasses.field(default_factory=dict)

    def for_operation(self, api: str, operation_id: str) -> FaultSettings:
        return self.operations.get(f"{api}/{operation_id}", self.default)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdminSettings:
    """The admin API under `/__mock/`: off beyond loopback unless a token protects it."""

    enabled: bool = True
    token: str | None = dataclasses.field(default=None, repr=False)
    # Host names the admin API and the page answer to beyond loopback and the bound address (web/hosts.py).
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for pattern in self.allowed_hosts:
            _require(_is_host_pattern(pattern), "admin.allowed_hosts",
                     f"entries are a host name or address without port, '*.' and a domain, or '*'; got {pattern!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RairSettings:
    """Upload limits of RAIR's token metadata update."""

    max_files: int = 2
    max_file_bytes: int = 10 * MiB

    def __post_init__(self) -> None:
        _require(self.max_files >= 0, "rair.max_files", "must not be negative")
        _require(self.max_file_bytes >= 1, "rair.max_file_bytes", "must be at least 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImmutableSettings:
    """Immutable's refresh behaviour: how long a refresh takes to show, and the quota."""

    refresh_delay: float = 0.0
    rate_limit: RateLimitSettings = dataclasses.field(default_factory=RateLimitSettings)

    def __post_init__(self) -> None:
        _require(self.refresh_delay >= 0, "immutable.refresh_delay", "must not be negative")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenizationSettings:
    """Upload limits of Tokenization TR's admin token update."""

    max_file_bytes: int = 10 * MiB
    # The whole request is held while it is validated, so this also bounds memory per upload in flight.
    max_request_bytes: int = 25 * MiB

    def __post_init__(self) -> None:
        _require(self.max_file_bytes >= 1, "tokenization.max_file_bytes", "must be at least 1")
        _require(self.max_request_bytes >= 1, "tokenization.max_request_bytes", "must be at least 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClientLimitSettings:
    """Bounds on slow and greedy clients, so that none can hold the server's memory or a request forever."""

    # Seconds a request body may go without a byte arriving before the request is cut off with 408.
    body_timeout: float = 30.0
    # Seconds a whole request body may take to arrive, however steadily it trickles (408 beyond): each large body
    # holds one of `max_large_bodies` slots until then, so a client sending a byte a second cannot keep it.
    body_deadline: float = 120.0
    # Seconds from a connection's start (or from the first byte of a kept-alive connection's next request) until
    # its request line and headers are complete; then 408 (or, when nothing was sent, the connection closed).
    header_timeout: float = 10.0
    # The request line and headers together (431 beyond), and how many headers (431 beyond).
    max_header_bytes: int = 64 * KiB
    max_headers: int = 100
    # Bodies over `large_body_bytes` (or of unknown length) in flight at once; more wait up to
    # `large_body_wait` seconds for one to finish, then get 503 with Retry-After. Each is held in memory while
    # validated, so this bounds the memory uploads take.
    max_large_bodies: int = 2
    large_body_bytes: int = 1 * MiB
    large_body_wait: float = 10.0

    def __post_init__(self) -> None:
        _require(self.body_timeout > 0, "clients.body_timeout", "must be more than 0 seconds")
        _require(self.body_deadline > 0, "clients.body_deadline", "must be more than 0 seconds")
        _require(self.header_timeout > 0, "clients.header_timeout", "must be more than 0 seconds")
        _require(self.max_header_bytes >= 1 * KiB, "clients.max_header_bytes", "must be at least 1024")
        _require(self.max_headers >= 1, "clients.max_headers", "must be at least 1")
        _require(self.max_large_bodies >= 1, "clients.max_large_bodies", "must be at least 1")
        _require(self.large_body_bytes >= 0, "clients.large_body_bytes", "must not be negative")
        _require(self.large_body_wait >= 0, "clients.large_body_wait", "must not be negative")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server can be told; immutable once built."""

    host: str = "127.0.0.1"
    port: int = 8080
    fixtures: str | None = None
    validate_responses: bool = False
    seed: int | None = None
    # Where the state lives: this process (memory://) or Redis shared by every worker and host (redis://...).
    store: str = dataclasses.field(default=MEMORY_URL, repr=False)  # a URL that may hold a password
    store_prefix: str = "mockserver:"
    # Debugging a multi-worker server: an X-Mock-Worker header with the answering process's id.
    worker_header: bool = False
    # uvicorn's line per request on the console; off saves a few percent of CPU under load.
    access_log: bool = True
    # Valid requests to the JSON and body-less operations skip Connexion's per-request work (see web/fastpath.py);
    # off, every request takes the Connexion path, for comparing the two.
    fast_path: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    rair: RairSettings = dataclasses.field(default_factory=RairSettings)
    immutable: ImmutableSettings = dataclasses.field(default_factory=ImmutableSettings)
    tokenization: TokenizationSettings = dataclasses.field(default_factory=TokenizationSettings)
    operation_limits: dict[str, OperationLimitSettings] = dataclasses.field(default_factory=dict)
    faults: FaultsSettings = dataclasses.field(default_factory=FaultsSettings)
    admin: AdminSettings = dataclasses.field(default_factory=AdminSettings)
    clients: ClientLimitSettings = dataclasses.field(default_factory=ClientLimitSettings)

    def __post_init__(self) -> None:
        _require(0 <= self.port <= 65535, "port", "must be between 0 and 65535")
        scheme, separator, _ = self.store.partition("://")
        _require(self.store == MEMORY_URL or (bool(separator) and scheme.lower() in REDIS_SCHEMES),
                 "store", f"must be memory:// or a redis://, rediss:// or unix:// URL; got {redact_url(self.store)!r}")
        for origin in self.cors_origins:
            # Browsers send a bare origin and CORS matches it exactly: a path or trailing slash never matches.
            _require(origin == "*" or bool(_ORIGIN.match(origin)), "cors_origins",
                     f"entries are '*' or scheme://host[:port]; got {origin!r}")

    def replace(self, **changes: Any) -> Settings:
        """A copy with top-level fields replaced, validated like any other."""
        return dataclasses.replace(self, **changes)

    @property
    def loopback_only(self) -> bool:
        """Whether the server is reachable only from this machine."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @property
    def admin_enabled(self) -> bool:
        """The admin API is served on loopback, or beyond it only behind a token."""
        return self.admin.enabled and (self.loopback_only or self.admin.token is not None)


def settings_tree(settings: Settings) -> dict[str, Any]:
    """The settings as the nested mapping a YAML file or the admin API uses (tuples as lists, as in YAML)."""
    return dataclasses.asdict(settings, dict_factory=lambda items: {k: list(v) if isinstance(v, tuple) else v
                                                                     for k, v in items})


def public_settings_tree(settings: Settings) -> dict[str, Any]:
    """`settings_tree` with every secret redacted: what the admin API and the page show."""
    tree = settings_tree(settings)
    for dotted in SECRET_URLS + SECRET_VALUES:
        *sections, name = dotted.split(".")
        node = tree
        for section in sections:
            node = node[section]
        node[name] = _redacted(dotted, node[name])
    return tree


def redact_url(url: str) -> str:
    """`url` with its password (in the userinfo, or a `password` query parameter as redis-py reads it) hidden."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{REDACTED}@{host}"
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name == "password" for name, _ in pairs):
        query = urlencode([(name, REDACTED if name == "password" else value) for name, value in pairs], safe="[]")
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Written out rather than with urlunsplit, which drops the `//` of an empty authority (`unix:///path`).
    return f"{parts.scheme}://{netloc}{parts.path}{'?' if query else ''}{query}{'#' if parts.fragment else ''}" \
           f"{parts.fragment}"


def _redacted(dotted: str, value: Any) -> Any:
    if value is None:
        return None  # shows that no secret is set
    return redact_url(value) if dotted in SECRET_URLS else REDACTED


def _unredacted(settings: Settings, patch: Mapping[str, Any]) -> dict[str, Any]:
    """`patch` with each secret sent back as shown (redacted) replaced by its value: a settings tree read from the
    admin API and PATCHed back changes no secret."""
    unredacted = copy.deepcopy(dict(patch))
    actual = _flatten(settings_tree(settings))
    for dotted in SECRET_URLS + SECRET_VALUES:
        *sections, name = dotted.split(".")
        node: Any = unredacted
        for section in sections:
            node = node.get(section) if isinstance(node, Mapping) else None
        if isinstance(node, dict) and name in node and node[name] == _redacted(dotted, actual[dotted]):
            node[name] = actual[dotted]
    return unredacted


def settings_from_tree(tree: Mapping[str, Any]) -> Settings:
    """Settings from the mapping `settings_tree` gives (how the CLI hands its settings to worker processes)."""
    return _build(Settings, tree, prefix="")


def patch_settings(settings: Settings, patch: Mapping[str, Any]) -> Settings:
    """New settings with `patch` (a partial tree) merged in; startup-only settings cannot change."""
    patch = _unredacted(settings, patch)
    current = _flatten(settings_tree(settings))
    frozen = sorted(name for name, value in _flatten(patch).items() if name in STARTUP_ONLY and value != current[name])
    if frozen:
        raise ConfigError(f"{', '.join(frozen)} cannot change while the server runs")
    tree = settings_tree(settings)
    _merge(tree, patch)
    return _build(Settings, tree, prefix="")


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, a YAML file, `MOCKSERVER_*` variables and dotted overrides, in that order."""
    tree: dict[str, Any] = {}
    if config_file is not None:
        _merge(tree, _read_yaml(Path(config_file)))
    for key, value in (os.environ if environ is None else environ).items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX:
            _set_dotted(tree, key[len(ENV_PREFIX) :].lower().replace("__", "."), value)
    for dotted, value in (overrides or {}).items():
        _set_dotted(tree, dotted, value)
    return _build(Settings, tree, prefix="")


def parse_assignment(text: str) -> tuple[str, str]:
    """Split a CLI `--set name=value` into its name and value."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--set takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return loaded


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{dotted}: {part} is a value, not a section")
        node = child
    node[leaf] = value


T = TypeVar("T")


def _build(cls: type[T], tree: Mapping[str, Any], *, prefix: str) -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(tree) - known)
    if unknown:
        names = ", ".join(prefix + name for name in unknown)
        raise ConfigError(f"unknown setting {names}; known here: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for name, raw in tree.items():
        hint = hints[name]
        dotted = prefix + name
        if dataclasses.is_dataclass(hint):
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{dotted} is a section; give it a mapping")
            kwargs[name] = _build(hint, raw, prefix=dotted + ".")  # type: ignore[arg-type]
        elif get_origin(hint) is dict:
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{dotted} is a mapping of sections; give it a mapping")
            section = get_args(hint)[1]
            kwargs[name] = {
                str(key): _build(section, value if isinstance(value, Mapping) else _not_a_section(f"{dotted}.{key}"),
                                 prefix=f"{dotted}.{key}.")
                for key, value in raw.items()
            }
        else:
            kwargs[name] = _coerce(raw, hint, dotted)
    return cls(**kwargs)


def _coerce(raw: Any, hint: Any, dotted: str) -> Any:
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.lower() in ("", "none", "null")):
            return None
        return _coerce(raw, options[0], dotted)
    if origin is Literal:
        allowed = get_args(hint)
        if raw not in allowed:
            raise ConfigError(f"{dotted} must be one of {', '.join(allowed)}; got {raw!r}")
        return raw
    if origin is tuple:
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{dotted} must be a list (or a comma-separated string); got {raw!r}")
        return tuple(str(_coerce(item, get_args(hint)[0], dotted)).strip() for item in items)
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return raw.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{dotted} must be true or false; got {raw!r}")
    if hint in (int, float):
        if isinstance(raw, bool):
            raise ConfigError(f"{dotted} must be a number; got {raw!r}")
        try:
            return hint(raw) if not (hint is int and isinstance(raw, float)) else _whole(raw, dotted)
        except (TypeError, ValueError):
            kind = "a whole number" if hint is int else "a number"
            raise ConfigError(f"{dotted} must be {kind}; got {raw!r}") from None
    if hint is str:
        if not isinstance(raw, str | int | float):
            raise ConfigError(f"{dotted} must be a string; got {raw!r}")
        return str(raw)
    raise ConfigError(f"{dotted} has an unsupported type {hint!r}")  # pragma: no cover - guards new fields


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _not_a_section(dotted: str) -> NoReturn:
    raise ConfigError(f"{dotted} is a section; give it a mapping")


def _whole(raw: float, dotted: str) -> int:
    if not raw.is_integer():
        raise ConfigError(f"{dotted} must be a whole number; got {raw!r}")
    return int(raw)


def _is_host_pattern(pattern: str) -> bool:
    if ":" not in pattern:
        return bool(_HOST_NAME.fullmatch(pattern))
    try:
        ipaddress.IPv6Address(pattern.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def _require(condition: bool, dotted: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{dotted} {message}")
