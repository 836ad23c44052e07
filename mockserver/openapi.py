"""The three specs as the server loads them: found beside the code, with configured limits written in."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mockserver.apis import registry
from mockserver.apis.base import Api
from mockserver.settings import Settings


def spec_dir() -> Path:
    """The specs shipped in the wheel, or the checkout's `specs/` when running from source."""
    packaged = Path(__file__).parent / "specs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "specs"


@cache
def _load(filename: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((spec_dir() / filename).read_text(encoding="utf-8"))
    return loaded


def load_spec(api: Api[Any], settings: Settings) -> dict[str, Any]:
    """The API's spec with the configured limits in place, so the served spec states what the server enforces."""
    spec = copy.deepcopy(_load(api.spec_file))
    api.configure_spec(spec, settings)
    return spec


@dataclasses.dataclass(frozen=True)
class PathTemplate:
    """A spec path as a regular expression whose groups are its path parameters, in order."""

    pattern: re.Pattern[str]
    parameters: tuple[tuple[str, dict[str, Any]], ...]  # (name, schema)


@cache
def path_templates(spec_file: str) -> tuple[PathTemplate, ...]:
    """Every path of a spec with the schemas of its path parameters (path-level and operation-level)."""
    templates = []
    for path, item in _load(spec_file).get("paths", {}).items():
        schemas: dict[str, dict[str, Any]] = {}
        operations = [op for op in item.values() if isinstance(op, dict)]
        declared = [*item.get("parameters", []), *(p for op in operations for p in op.get("parameters", []))]
        for parameter in declared:
            if parameter.get("in") == "path":
                schemas[parameter["name"]] = resolve_refs(_load(spec_file), parameter.get("schema", {}))
        names = re.findall(r"\{([^}]+)\}", path)
        templates.append(PathTemplate(template_pattern(path), tuple((name, schemas.get(name, {})) for name in names)))
    return tuple(templates)


def template_pattern(path: str) -> re.Pattern[str]:
    """A spec path as a regular expression matching whole request paths, a group per path parameter."""
    return re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "([^/]+)", re.escape(path)) + r"\Z")


def literal_segments(path: str) -> int:
    """How many segments of a spec path are fixed text; OpenAPI prefers the path with more when both match."""
    return sum(1 for segment in path.split("/") if segment and "{" not in segment)


def resolve_refs(spec: Mapping[str, Any], node: Any) -> Any:
    """`node` with every local `$ref` replaced by what it points to (the specs' path schemas have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve_refs(spec, target)
        return {key: resolve_refs(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_refs(spec, item) for item in node]
    return node


def load_admin_spec() -> dict[str, Any]:
    """The admin API's own spec (part of the mock, not of any vendor's contract), naming the registry's APIs
    where it lists them: the journal's `api` filter and the state's sections."""
    spec: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "data" / "admin.yaml").read_text("utf-8"))
    names = [api.name for api in registry()]
    for parameter in spec["paths"]["/journal"]["get"]["parameters"]:
        if parameter["name"] == "api":
            parameter["schema"]["enum"] = names
    state = spec["paths"]["/state"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    state["required"] = [*names, "files"]
    state["properties"] = {**{name: {"type": "object"} for name in names}, "files": {"type": "integer"}}
    return spec
