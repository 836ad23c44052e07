"""Fixtures: the credentials and resources a fresh store starts with, read from YAML and checked on load.

A fixtures file has one section per API, every one optional. Each API parses its own section into records in
the shapes it returns (`FixturesSection`, added here by the registry in `mockserver.apis`), so the store never sees
raw YAML; this module reads the document, hands each section to its API and checks there is nothing else.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from mockserver.errors import FixturesError

HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
NETWORK = re.compile(r"^0x[0-9a-fA-F]+$")
UINT256 = re.compile(r"^(0|[1-9][0-9]*)$")
T = TypeVar("T")
# libyaml's parser when PyYAML has it: the pure-Python one takes tens of seconds over 10,000 tokens.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoAliasLoader(_YAML_LOADER):  # type: ignore[valid-type,misc]
    """The YAML loader for fixtures, refusing aliases (`*name`) and merge keys (`<<: *name`).

    An alias stands for its anchor's whole value, so a few hundred bytes of nested aliases expand to megabytes
    in every read of the state (706 bytes made each GET 5.8 MB). libyaml composes the node graph in C, where an
    alias is simply the anchor's node again; the constructor, which is Python in both loaders, then meets that
    node a second time, and that is where it is refused.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "fixtures may not use YAML aliases (*name) or merge keys (<<): write each value out",
                node.start_mark)
        return super().construct_object(node, deep)


def read_yaml(document: str | bytes) -> Any:
    """A fixtures document as YAML, aliases refused (raises `yaml.YAMLError` saying what is wrong)."""
    return yaml.load(document, Loader=_NoAliasLoader)


_LEADING_COMMENTS = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*")
DEFAULT_CREATED = "2026-01-01T00:00:00.000000Z"
Section = Any  # an API's parsed section: a dataclass of its records, empty when built without arguments


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixturesSection:
    """An API's part of the fixtures: the dataclass of its records (empty when built without arguments), how its
    YAML section is checked into one, and how one goes to and from the JSON a shared store keeps (a mapping of
    top-level keys, each prefixed with the API's name so that all sections share one JSON object)."""

    type: type[Any]
    parse: Callable[[Reader, dict[str, Any]], Section]
    to_json: Callable[[Section], dict[str, Any]]
    from_json: Callable[[Mapping[str, Any]], Section]


# The sections of the registered APIs by name, in the registry's order: `mockserver.apis` adds and removes them.
_sections: dict[str, FixturesSection] = {}


def add_section(name: str, section: FixturesSection) -> None:
    """Fixtures read from now on have this API's section under `name`."""
    _sections[name] = section


def remove_section(name: str) -> None:
    _sections.pop(name, None)


def section_names() -> tuple[str, ...]:
    """The sections a fixtures document may have, one per API that has fixtures."""
    return tuple(_sections)


@dataclasses.dataclass(kw_only=True)
class Fixtures:
    """Everything a store is seeded with: each API's section by name (`fixtures.section(name, type)`).

    `fixtures.<api>_<field>` reads one field of an API's section too: the flat names the fixtures had when they
    were one dataclass, which tests and scripts still use."""

    sections: dict[str, Section] = dataclasses.field(
        default_factory=lambda: {name: section.type() for name, section in _sections.items()})

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not fields: a section's records by their flat name.
        for api, section in self.__dict__.get("sections", {}).items():
            if name.startswith(api + "_"):
                try:
                    return getattr(section, name[len(api) + 1 :])
                except AttributeError:
                    break
        raise AttributeError(f"no fixtures {name!r}")

    def section(self, name: str, kind: type[T]) -> T:
        """An API's section, typed: what its package seeds its records from."""
        # Fixtures made before the API was registered hold none of it: read as empty, and left as they are.
        section = self.sections.get(name) or kind()
        if not isinstance(section, kind):  # pragma: no cover - a registry out of step with these fixtures
            raise TypeError(f"fixtures section {name!r} is a {type(section).__name__}, not a {kind.__name__}")
        return section

    def copy(self) -> Fixtures:
        """A deep copy, so a store can mutate its records and still be reset to these.

        Records are plain data and the rest frozen, so only dicts and lists are copied: several times faster than
        `copy.deepcopy`, which was most of the time an app takes to build on 10,000 tokens.
        """
        return Fixtures(sections={
            name: type(section)(**{field.name: copy_data(getattr(section, field.name))
                                   for field in dataclasses.fields(section)})
            for name, section in self.sections.items()
        })


def fixtures_to_json(fixtures: Fixtures) -> str:
    """Fixtures as JSON (each section's keys in one object), for `fixtures_from_json`."""
    document: dict[str, Any] = {}
    for name, section in _sections.items():
        document.update(section.to_json(fixtures.section(name, section.type)))
    return _compact_json(document)


def fixtures_from_json(document: str | bytes) -> Fixtures:
    raw = json.loads(document)
    return Fixtures(sections={name: section.from_json(raw) for name, section in _sections.items()})


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def default_fixtures_path() -> Path:
    """The fixtures file shipped with the package."""
    return Path(str(resources.files("mockserver") / "data" / "fixtures.yaml"))


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Read and check a fixtures file (the packaged default when `path` is None)."""
    source = Path(path) if path is not None else default_fixtures_path()
    try:
        raw = _read_document(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixturesError(f"cannot read fixtures file {source}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise FixturesError(f"fixtures file {source} is not valid YAML: {exc}") from exc
    return parse_fixtures(raw or {}, source=str(source))


def _read_document(text: str) -> Any:
    """A YAML document; one written as JSON (YAML's subset, as `mockserver fixtures` writes) is read as JSON,
    which is a hundred times faster than even libyaml for the same data."""
    match = _LEADING_COMMENTS.match(text)
    body = text[match.end() if match else 0 :]
    if body.startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            pass  # YAML flow style that is not JSON
    return read_yaml(text)


def parse_fixtures(raw: Any, *, source: str = "<fixtures>") -> Fixtures:
    """Check and normalise already-parsed fixtures data."""
    reader = Reader(source)
    root = reader.mapping(raw, "")
    sections = {name: section.parse(reader, reader.mapping(root.get(name, {}), name))
                for name, section in _sections.items()}
    unknown = set(root) - set(_sections)
    if unknown:
        reader.fail("", f"unknown sections {', '.join(sorted(unknown))}")
    return Fixtures(sections=sections)


def object_id(*parts: object) -> str:
    """A stable 24-hex-digit id (the MongoDB ObjectId form)."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:24]


class Reader:
    """Typed access to raw YAML that names the offending path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise FixturesError(f"{self.source}: {where or 'top level'}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping")
        return value

    def items(self, value: Any, where: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, "must be a list")
        return [self.mapping(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def text(self, node: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            self.fail(f"{where}.{key}", "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            self.fail(f"{where}.{key}", f"{value!r} does not match {pattern.pattern}")
        return value

    def integer(self, node: Mapping[str, Any], key: str, where: str) -> int:
        value = node.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(f"{where}.{key}", "must be a non-negative integer")
        return value

    def number(self, node: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float | None:
        value = node.get(key, default)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            self.fail(f"{where}.{key}", "must be a number")
        return value


_SHARED = (str, int, float, bool, bytes, type(None))


def copy_data(value: Any) -> Any:
    """A deep copy of fixtures data, sharing what cannot change (scalars, frozen records)."""
    if isinstance(value, dict):
        return {key: copy_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_data(item) for item in value]
    if isinstance(value, _SHARED) or _is_frozen_record(value):
        return value
    return copy.deepcopy(value)  # a YAML date or set, say


def _is_frozen_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen  # type: ignore[attr-defined]


def uuid_from(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
