"""The suite's modules import one another without cycles, never import the mock, and outside
`conformance/apis/` name no API: what an API brings reaches the shared machinery only through the registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import conformance
from tests.mockserver.test_imports import cycles

PACKAGE = Path(conformance.__file__).resolve().parent
# The registry names the APIs it lists; every other module outside `apis/` must not.
REGISTRY = PACKAGE / "apis" / "__init__.py"
API_NAMES = re.compile(r"rair|immutable|tokenization", re.IGNORECASE)


def imports() -> dict[str, set[str]]:
    """Each module of the package and every module it imports anywhere in its body (functions included)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("conformance", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` imports that module; `from module import name` the module.
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    graph[name].add(submodule if submodule in modules else node.module)
    return graph


def within_the_package(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: {target for target in targets if target in graph and target != name}
            for name, targets in graph.items()}


def naming_an_api(root: Path) -> dict[str, list[int]]:
    """Modules under `root`, outside its `apis/` and but for the registry, with the lines that name an API."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        if path == REGISTRY or path.relative_to(root).parts[0] == "apis":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        hits = [number for number, line in enumerate(lines, 1) if API_NAMES.search(line)]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def test_no_import_cycles() -> None:
    assert cycles(within_the_package(imports())) == []


def test_the_mock_is_never_imported() -> None:
    found = {module: sorted(target for target in targets if target.split(".")[0] == "mockserver")
             for module, targets in imports().items()}
    assert {module: targets for module, targets in found.items() if targets} == {}


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = within_the_package(imports())
    # The registry is imported at the top of the runner, the schema checks and the target loader.
    assert {"conformance.runner", "conformance.schema_checks", "conformance.target"} <= {
        module for module, targets in graph.items() if "conformance.apis" in targets}
    assert "conformance.apis.rair" in graph["conformance.apis"]


def test_shared_modules_name_no_api() -> None:
    assert naming_an_api(PACKAGE) == {}


def test_a_shared_module_naming_an_api_is_found(tmp_path: Path) -> None:
    (tmp_path / "apis" / "rair").mkdir(parents=True)
    (tmp_path / "apis" / "rair" / "checks.py").write_text("RAIR = 1\n")
    (tmp_path / "runner.py").write_text('"""Runs."""\n\n# then Tokenization\n')
    (tmp_path / "report.py").write_text("x = 1\n")
    assert naming_an_api(tmp_path) == {"runner.py": [3]}
