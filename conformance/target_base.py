"""What a target is, and how one section of a target file is read; the sections themselves are the APIs'.

`conformance.target` loads a file with the sections of every registered API (`conformance.apis`); each API
reads its own section with a `Section` and checks it through the typed accessor of its package.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from conformance.errors import TargetError

MiB = 1024 * 1024
# A contract address on an EVM chain, as more than one API names one.
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
SectionT = TypeVar("SectionT")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """Everything the suite knows about the server under test besides its base URL.

    `sections` holds each API's parsed section by API name; `target.<name>` reads one as well, as it did when
    the sections were fields of their own.
    """

    source: str
    request_timeout: float = 10.0
    sections: Mapping[str, object]

    def section(self, api: str, kind: type[SectionT]) -> SectionT:
        """The parsed section of `api`, which must be a `kind`."""
        value = self.sections.get(api)
        if not isinstance(value, kind):
            raise TargetError(f"{self.source}: no {api} section of type {kind.__name__}")
        return value

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are no field: an API's section, by the API's name.
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class Section:
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

    def section(self, key: str) -> Section:
        value = self._get(key)
        if value is None:
            raise self._fail(key, "is missing")
        return Section(value, self.source, f"{self.prefix}{key}.")

    def optional_section(self, key: str) -> Section | None:
        value = self._get(key)
        return None if value is None else Section(value, self.source, f"{self.prefix}{key}.")

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
