"""What an API brings to the suite: `ApiSuite`. The shared machinery reads only this, never an API by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from schemathesis import Case

from conformance._specs import load_spec
from conformance.behaviour.base import BehaviourCheck
from conformance.target_base import Section, Target

AnyCase = Case[Any]


def _spec_as_written(spec: dict[str, Any], target: Target) -> None:
    """The default `adjust_spec`: the spec says everything the schema checks need."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiSuite:
    """One API's part of the suite. Its spec is `specs/<name>.yaml`; its section of a target file is `<name>:`."""

    name: str
    # The spec of an API that is not among `specs/` (one registered with `conformance.apis.register`).
    spec_file: Path | None = None
    # How the CLI's help names the API ("... for the <title>, ... token-metadata APIs").
    title: str
    # Reads the API's section of a target file (into the dataclass its checks read through `Target.section`).
    read_target: Callable[[Section], object]
    # The security scheme of the spec that Schemathesis fills in, and with what from the target.
    security_scheme: str
    credential: Callable[[Target], dict[str, str]]
    # Operations that change state or spend quota when a valid request reaches them.
    write_operations: frozenset[str]
    # The behaviour checks, in the order they run (ones that spend a quota for good come last).
    checks: tuple[BehaviourCheck, ...]
    # operationId -> where the vendor documents it: its own OpenAPI document, or only a page (the schema checks'
    # rule sources). An operation in neither rests on this project's transcription.
    vendor_openapi: Mapping[str, str] = dataclasses.field(default_factory=dict)
    vendor_pages: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # What the schema checks need said that the spec leaves out or to this server (a limit from the target).
    adjust_spec: Callable[[dict[str, Any], Target], None] = _spec_as_written
    # Case repairs (see `conformance.schema_hooks`): the path parameters of a resource the target knows, given
    # the generated ones and a stable choice; by operationId, a repair of a positive body (in place on the
    # case), a test a positive body must pass to be sent, and query parameters only the server can issue.
    known_path: Callable[[Target, Mapping[str, Any], int], dict[str, Any]]
    body_repairs: Mapping[str, Callable[[AnyCase, Target], None]] = dataclasses.field(default_factory=dict)
    body_filters: Mapping[str, Callable[[dict[str, Any]], bool]] = dataclasses.field(default_factory=dict)
    server_issued_query: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """A fresh copy of its OpenAPI document."""
        return load_spec(self.name, self.spec_file)
