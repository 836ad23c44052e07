"""The target file: credentials for each API and the resources the server under test is known to have.

Generated requests only reach a server's real logic when they name things that exist and carry credentials
that work, so the suite reads both from a small YAML file (see `example_target.yaml`). Without one it uses
the mock server's default fixtures (`default_target.yaml`). Each registered API reads its own section
(`conformance/apis/<name>/target.py`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conformance.apis import suites
from conformance.errors import TargetError
from conformance.target_base import Section, Target

__all__ = ["Target", "default_target_text", "load_target", "parse_target"]


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
    root = Section(data, source, "")
    request_timeout = root.number("request_timeout", 10.0, minimum=0.1)
    sections = {suite.name: suite.read_target(root.section(suite.name)) for suite in suites()}
    target = Target(source=source, request_timeout=request_timeout, sections=sections)
    root.done()
    return target
