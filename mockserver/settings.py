"""The one home of configuration: defaults, then a YAML file, then the environment, then CLI flags.

Every setting has a dotted name (`immutable.rate_limit.limit`). A YAML file nests by the dots, an environment
variable joins them with double underscores after the `MOCKSERVER_` prefix
(`MOCKSERVER_IMMUTABLE__RATE_LIMIT__LIMIT=3`), and the CLI takes `--set immutable.rate_limit.limit=3`.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from mockserver.errors import ConfigError

MiB = 1024 * 1024
ENV_PREFIX = "MOCKSERVER_"
STRATEGIES = ("fixed-window", "sliding-window")
Strategy = Literal["fixed-window", "sliding-window"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RateLimitSettings:
    """Immutable's per-project refresh quota."""

    limit: int = 1000
    window: int = 3600
    strategy: Strategy = "fixed-window"
    storage: str = "memory://"

    def __post_init__(self) -> None:
        _require(self.limit >= 1, "immutable.rate_limit.limit", "must be at least 1")
        _require(self.window >= 1, "immutable.rate_limit.window", "must be at least 1 second")


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
    max_request_bytes: int = 50 * MiB

    def __post_init__(self) -> None:
        _require(self.max_file_bytes >= 1, "tokenization.max_file_bytes", "must be at least 1")
        _require(self.max_request_bytes >= 1, "tokenization.max_request_bytes", "must be at least 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server can be told; immutable once built."""

    host: str = "127.0.0.1"
    port: int = 8080
    fixtures: str | None = None
    validate_responses: bool = False
    rair: RairSettings = dataclasses.field(default_factory=RairSettings)
    immutable: ImmutableSettings = dataclasses.field(default_factory=ImmutableSettings)
    tokenization: TokenizationSettings = dataclasses.field(default_factory=TokenizationSettings)

    def __post_init__(self) -> None:
        _require(0 <= self.port <= 65535, "port", "must be between 0 and 65535")

    def replace(self, **changes: Any) -> Settings:
        """A copy with top-level fields replaced, validated like any other."""
        return dataclasses.replace(self, **changes)


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


def _whole(raw: float, dotted: str) -> int:
    if not raw.is_integer():
        raise ConfigError(f"{dotted} must be a whole number; got {raw!r}")
    return int(raw)


def _require(condition: bool, dotted: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{dotted} {message}")
