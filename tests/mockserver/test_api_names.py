"""No module of the mock outside `mockserver/apis/` names one of the APIs it serves, except the registry that lists
them: everything about an API lives in its package, so adding one touches no shared module."""

from __future__ import annotations

import re
from pathlib import Path

import mockserver

PACKAGE = Path(mockserver.__file__).resolve().parent
API_NAMES = re.compile(r"rair|immutable|tokenization", re.IGNORECASE)
# Words that are HTTP's, not an API's: Cache-Control's `immutable` directive (RFC 8246) and the comment citing it.
HTTP_VOCABULARY = re.compile(r"max-age=\d+, immutable|RFC 8246's `immutable`")


def modules_naming_an_api(package: Path) -> dict[str, list[str]]:
    """Each module outside `apis/` (and the registry itself) whose text names an API, with the names found."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        if path == package / "apis" / "__init__.py" or package / "apis" in path.parents:
            continue
        names = API_NAMES.findall(HTTP_VOCABULARY.sub("", path.read_text(encoding="utf-8")))
        if names:
            found[str(path.relative_to(package))] = sorted(set(names))
    return found


def test_no_shared_module_names_an_api() -> None:
    assert modules_naming_an_api(PACKAGE) == {}


def test_a_module_naming_an_api_is_found(tmp_path: Path) -> None:
    (tmp_path / "apis" / "rair").mkdir(parents=True)
    (tmp_path / "apis" / "__init__.py").write_text("from apis import rair\n")
    (tmp_path / "apis" / "rair" / "service.py").write_text("RAIR = 1\n")
    (tmp_path / "settings.py").write_text('limit = "Immutable quota"\n')
    (tmp_path / "store.py").write_text("nothing = 1\n")
    (tmp_path / "files.py").write_text('CACHE = "public, max-age=60, immutable"\n')

    assert modules_naming_an_api(tmp_path) == {"settings.py": ["Immutable"]}
