"""The three specs as the server loads them: found beside the code, with configured limits written in."""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mockserver.apis import registry
from mockserver.apis.base import Api
from mockserver.settings import Settings, startup_only


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


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclasses.dataclass(frozen=True)
class PathRoute:
    """One path of a spec, compiled: a regular expression whose groups are its path parameters, in order."""

    path: str
    pattern: re.Pattern[str]
    literal_segments: int  # OpenAPI: a concrete path wins over a templated one that also matches
    parameters: tuple[tuple[str, dict[str, Any]], ...]  # (name, schema with references resolved)
    operations: Mapping[str, Mapping[str, Any]]  # by upper-case HTTP method


@dataclasses.dataclass(frozen=True)
class RouteTable:
    """An API's paths and operations, compiled once from its spec and read by everything that routes: the fast
    path, the method guard, the controls and the translation of routing errors."""

    paths: tuple[PathRoute, ...]

    @functools.cached_property
    def operations(self) -> dict[str, Mapping[str, Any]]:
        """Every operation by operationId."""
        return {operation["operationId"]: operation for route in self.paths for operation in route.operations.values()
                if "operationId" in operation}

    def allowed_methods(self, path: str) -> set[str]:
        """The methods the paths matching `path` take (the most concrete ones only); empty when none match."""
        matches = [route for route in self.paths if route.pattern.match(path)]
        most = max((route.literal_segments for route in matches), default=0)
        allowed = {method for route in matches if route.literal_segments == most for method in route.operations}
        if "GET" in allowed:
            allowed.add("HEAD")
        return allowed


@cache
def route_table(spec_file: str) -> RouteTable:
    """The route table of a spec file. Paths, parameters and operations are the same whatever the settings
    (configured limits are written into component schemas, which callers resolve in the configured spec)."""
    spec = _load(spec_file)
    routes = []
    for path, item in spec.get("paths", {}).items():
        operations = {method.upper(): operation for method, operation in item.items() if method in HTTP_METHODS}
        schemas: dict[str, dict[str, Any]] = {}
        declared = [*item.get("parameters", []), *(p for op in operations.values() for p in op.get("parameters", []))]
        for parameter in declared:
            if parameter.get("in") == "path":
                schemas[parameter["name"]] = resolve_refs(spec, parameter.get("schema", {}))
        names = re.findall(r"\{([^}]+)\}", path)
        routes.append(PathRoute(path=path, pattern=template_pattern(path), literal_segments=literal_segments(path),
                                parameters=tuple((name, schemas.get(name, {})) for name in names),
                                operations=operations))
    return RouteTable(tuple(routes))


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
    where it lists them: the journal's `api` filter, the state's sections, the settings' sections and what each
    API's quota shows, and the settings fixed while the server runs."""
    spec: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "data" / "admin.yaml").read_text("utf-8"))
    apis = registry()
    names = [api.name for api in apis]
    for parameter in spec["paths"]["/journal"]["get"]["parameters"]:
        if parameter["name"] == "api":
            parameter["schema"]["enum"] = names
    state = spec["paths"]["/state"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    state["required"] = [*names, "files"]
    state["properties"] = {**{name: {"type": "object"} for name in names}, "files": {"type": "integer"}}
    settings = spec["components"]["schemas"]["Settings"]
    sections = [api.name for api in apis if api.settings_section is not None]
    settings["required"] = [*settings["required"], *sections]
    settings["properties"] = {**settings["properties"], **{name: {"type": "object"} for name in sections}}
    limits = spec["paths"]["/rate-limits"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    quotas = {api.name: api.rate_limits_schema for api in apis if api.rate_limits_schema is not None}
    limits["required"] = [*quotas, *limits["required"]]
    limits["properties"] = {**quotas, **limits["properties"]}
    patch = spec["paths"]["/settings"]["patch"]
    fixed = [f"`{name}`" for name in startup_only()]
    patch["description"] = patch["description"].replace("{startup_only}", f"{', '.join(fixed[:-1])} and {fixed[-1]}")
    return spec
