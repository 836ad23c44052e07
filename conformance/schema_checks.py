"""Property-based checks driven by the specs: Schemathesis' engine and built-in checks, with our hooks.

Each API's spec is loaded from the packaged copy (`_specs`), configured from the target (credentials per
security scheme, the base URL, seed, example budget, workers) and run through every test phase Schemathesis
has for a single operation: examples, coverage (boundary values, missing headers, undeclared methods) and
fuzzing. Every check result is folded into one `CheckResult` per operation and check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status as EngineStatus
from schemathesis.engine import events, from_schema

from conformance._specs import ApiName, load_spec
from conformance.curl import curl_of_sent, needs_body_file
from conformance.exchange import SentRequest
from conformance.results import CheckResult, Finding, Operation, RuleSource
from conformance.schema_hooks import CaseAdapter
from conformance.target import Target

# The built-in checks the suite runs, with what each one holds a server to.
SCHEMA_CHECKS: dict[str, str] = {
    "not_a_server_error": "No request, valid or not, gets a 5xx.",
    "status_code_conformance": "Every status code is one the spec documents for the operation.",
    "content_type_conformance": "Every response's Content-Type is one the spec documents for its status.",
    "response_headers_conformance": "Headers the spec requires for a status are present and well formed.",
    "response_schema_conformance": "Every response body matches the schema documented for its status.",
    "negative_data_rejection": "A request that breaks the schema is rejected with a 4xx, never accepted.",
    "positive_data_acceptance": "A request that satisfies the schema (and the documented rules) is accepted.",
    "missing_required_header": "A request without a required header (the credential) is rejected.",
    "ignored_auth": "An operation requiring credentials refuses requests without them or with wrong ones.",
    "unsupported_method": "A method the path does not declare gets 405 with an Allow header.",
    "allow_header_conformance": "The Allow header of a 405 lists exactly the methods the spec declares.",
}
# Built-in checks that only apply to stateful runs (nothing here creates or deletes resources): kept off.
OPTIONAL_CHECKS = ("use_after_free", "ensure_resource_availability", "object_level_authorization")
WRITE_OPERATIONS = frozenset(
    {"updateTokenMetadata", "RefreshNFTMetadataByTokenID", "RefreshMetadataByID", "updateToken"}
)
# Legitimate answers to a valid request besides 2xx: the resource or credential may not match (401/403/404),
# an upload may be over a size limit (413) or of a type the server refuses (415), a quota may be spent (429).
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "413", "415", "429"]
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
_EXPECTATIONS = {
    "not_a_server_error": "a status below 500",
    "status_code_conformance": "a status code documented for this operation",
    "content_type_conformance": "a documented Content-Type",
    "response_headers_conformance": "the headers documented for this status",
    "response_schema_conformance": "a body matching the documented schema",
    "negative_data_rejection": f"rejection of invalid input with one of {', '.join(NEGATIVE_STATUSES)}",
    "positive_data_acceptance": f"acceptance of valid input: one of {', '.join(POSITIVE_STATUSES)}",
    "missing_required_header": "401, 403 or 400 for a request without the required header",
    "ignored_auth": "401 or 403 without credentials or with invalid ones",
    "unsupported_method": "405 with an Allow header for an undeclared method",
    "allow_header_conformance": "an Allow header listing exactly the methods the spec declares",
}
# Operations a vendor publishes in an OpenAPI document of its own (copies in the project's shared/reference):
# the statuses, media types, schemas and credentials documented there are the vendor's words.
VENDOR_OPENAPI = {
    ("immutable", "GetNFT"): "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), GetNFT",
    ("immutable", "ListNFTs"): "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), ListNFTs",
    ("immutable", "RefreshNFTMetadataByTokenID"): (
        "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), RefreshNFTMetadataByTokenID"
    ),
    ("immutable", "RefreshMetadataByID"): (
        "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), RefreshMetadataByID"
    ),
    ("immutable", "GetMetadata"): "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), GetMetadata",
    ("immutable", "ListMetadata"): "Immutable OpenAPI (ts-immutable-sdk blockchain-data-openapi.json), ListMetadata",
    ("rair", "getToken"): "RAIR OpenAPI (rair-dapp rairapi_old.yaml), GET /api/nft/network/.../token/{token}",
}
# Operations documented only by a vendor's page: its words on credentials are the vendor's; the schemas in
# specs/ are this project's transcription of the page, with what the page leaves open decided in BEHAVIOUR.md.
VENDOR_PAGES = {
    ("rair", "updateTokenMetadata"): "RAIR docs, 'Update specific token metadata by internal token ID'",
    ("tokenization", "updateToken"): "Tokenization docs, 'Update Token'",
    ("tokenization", "getToken"): "Tokenization docs, 'Get Token Details'",
}
_CREDENTIAL_CHECKS = ("missing_required_header", "ignored_auth")
_PROJECT_RULES = {
    "not_a_server_error": "BEHAVIOUR.md, Everywhere: bad input gets a 4xx, never a 500",
    "unsupported_method": "RFC 9110 15.5.6 (405 with Allow), adopted in specs/",
    "allow_header_conformance": "RFC 9110 10.2.1 (Allow lists the methods the resource supports), adopted in specs/",
    # Request schemas add this project's tightenings to any vendor schema (e.g. uint256 token ids).
    "negative_data_rejection": "request schema of specs/{api}.yaml, with this project's tightenings",
}


def schema_rule_source(api: ApiName, operation_id: str, check: str) -> tuple[RuleSource, str]:
    """Whose words a schema check on an operation rests on, and where they are written."""
    if check in _PROJECT_RULES:
        return RuleSource.PROJECT, _PROJECT_RULES[check].format(api=api)
    published = VENDOR_OPENAPI.get((api, operation_id))
    if published is not None:
        return RuleSource.VENDOR_OPENAPI, published
    page = VENDOR_PAGES.get((api, operation_id))
    if page is not None and check in _CREDENTIAL_CHECKS:
        return RuleSource.VENDOR_PAGE, f"{page}: the credential header"
    return RuleSource.PROJECT, f"specs/{api}.yaml, {operation_id}: transcribed from the vendor's page"


SECURITY_SCHEMES: dict[ApiName, str] = {
    "rair": "RairToken",
    "immutable": "ImmutableApiKey",
    "tokenization": "BearerAuth",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SchemaRunConfig:
    """How to run the Schemathesis checks of one API."""

    base_url: str
    target: Target
    seed: int
    max_examples: int
    workers: int = 1
    allow_destructive: bool = False
    documented_only: bool = False
    extra_checks: tuple[str, ...] = ()

    @property
    def checks(self) -> tuple[str, ...]:
        return (*SCHEMA_CHECKS, *self.extra_checks)

    def left_out(self, api: ApiName, operation: Operation, check: str) -> str | None:
        """Why a check does not run on an operation, or None when it runs."""
        if (
            check == "positive_data_acceptance"
            and operation.operation_id in WRITE_OPERATIONS
            and not self.allow_destructive
        ):
            return "valid writes change state: needs --allow-destructive"
        if self.documented_only and not schema_rule_source(api, operation.operation_id, check)[0].documented:
            return DOCUMENTED_ONLY_SKIP
        return None


DOCUMENTED_ONLY_SKIP = "a rule of this project, not of the vendor's documents: left out by --documented-only"


def operations(api: ApiName) -> list[Operation]:
    """The spec's operations in document order."""
    spec = load_spec(api)
    found = []
    for path, item in spec["paths"].items():
        for method, definition in item.items():
            if isinstance(definition, dict) and "operationId" in definition:
                found.append(
                    Operation(
                        api=api, operation_id=definition["operationId"], method=method.upper(), path=path
                    )
                )
    return found


def _spec_for(api: ApiName, target: Target) -> dict[str, Any]:
    spec = load_spec(api)
    if api == "rair":
        # The file count limit is server configuration; generate no more files than this server takes.
        files = spec["components"]["schemas"]["TokenMetadataUpdate"]["properties"]["files"]
        files["maxItems"] = target.rair.max_files
    if api == "immutable":
        # The refresh description says every 202 and 429 carries the four rate headers, but the header objects
        # do not say `required: true`, without which Schemathesis never misses them. State it for the spec.
        for header in spec["components"]["headers"].values():
            header["required"] = True
    return spec


def _auth(api: ApiName, target: Target) -> dict[str, Any]:
    credential = {
        "rair": {"api_key": target.rair.owner_token},
        "immutable": {"api_key": target.immutable.api_key},
        "tokenization": {"bearer": target.tokenization.bearer_token},
    }[api]
    return {"openapi": {SECURITY_SCHEMES[api]: credential}, "auto-signup": False}


def build_config(api: ApiName, config: SchemaRunConfig) -> SchemathesisConfig:
    checks: dict[str, Any] = {
        name: {"enabled": name in config.checks} for name in (*SCHEMA_CHECKS, *OPTIONAL_CHECKS)
    }
    checks["positive_data_acceptance"]["expected-statuses"] = POSITIVE_STATUSES
    checks["negative_data_rejection"]["expected-statuses"] = NEGATIVE_STATUSES
    operations_config = []
    for operation in operations(api):
        entry: dict[str, Any] = {"include-operation-id": operation.operation_id}
        if operation.operation_id in WRITE_OPERATIONS and not config.allow_destructive:
            # A valid write changes state or spends quota; without permission only requests that must fail
            # are sent.
            entry["generation"] = {"mode": "negative"}
        left_out = {name: {"enabled": False} for name in config.checks if config.left_out(api, operation, name)}
        if left_out:
            entry["checks"] = left_out
        if len(entry) > 1:
            operations_config.append(entry)
    return SchemathesisConfig.from_dict(
        {
            "base-url": config.base_url,
            "seed": config.seed,
            "workers": config.workers,
            "continue-on-failure": True,
            "request-timeout": config.target.request_timeout,
            "auth": _auth(api, config.target),
            "generation": {"max-examples": config.max_examples, "database": "none", "no-shrink": True},
            # Sequences of calls are the behavioural checks' job; the links Schemathesis would infer add only
            # time.
            # The examples phase sends the spec's examples without passing them through our hooks (so a
            # positive
            # write would go out unrepaired, even without --allow-destructive); coverage sends them too,
            # hooked.
            "phases": {"stateful": {"enabled": False}, "examples": {"enabled": False}},
            "checks": checks,
            # Reports must reproduce failures: keep credentials in the curl commands (they come from the
            # target).
            "output": {"sanitization": {"enabled": False}},
            "operations": operations_config,
            # Schemathesis replays crashes it cached in earlier runs; one seed must mean one set of cases.
            "cache": {"enabled": False},
        }
    )


def run_schema_checks(
    api: ApiName, config: SchemaRunConfig, progress: Callable[[str], None] | None = None
) -> list[CheckResult]:
    """Run Schemathesis on one API and return a result per operation and check, in a stable order."""
    spec = _spec_for(api, config.target)
    schema = schemathesis.openapi.from_dict(spec, config=build_config(api, config))
    guarded = () if config.allow_destructive else WRITE_OPERATIONS
    CaseAdapter(api, config.target, spec=spec, guarded_writes=guarded).install(schema)
    by_label = {operation.label: operation for operation in operations(api)}
    results: dict[tuple[str, str], CheckResult] = {}
    for operation in by_label.values():
        for check in config.checks:
            source, cite = schema_rule_source(api, operation.operation_id, check)
            results[(operation.label, check)] = CheckResult(
                operation=operation,
                check=check,
                kind="schema",
                description=SCHEMA_CHECKS.get(check, check),
                source=source,
                cite=cite,
                skip_reason=config.left_out(api, operation, check),
            )

    # An operation's errors come before its ScenarioFinished: held until then, so that a check's crash is
    # reported on that check (with its error and the request), and only other errors on every check.
    pending: dict[str, list[events.NonFatalError]] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if progress is not None:
                progress(f"{api}: {event.phase.value} {event.recorder.label}")
            errors = pending.pop(event.recorder.label, [])
            if not _fold(event, by_label, results, config, errors):
                for error in errors:
                    _record_error(error, by_label, results)
        elif isinstance(event, events.NonFatalError):
            if event.related_to_operation and event.label in by_label:
                pending.setdefault(event.label, []).append(event)
            else:
                _record_error(event, by_label, results)
        elif isinstance(event, events.FatalError):
            raise event.exception
    for errors in pending.values():
        for error in errors:
            _record_error(error, by_label, results)
    return list(results.values())


def _fold(
    event: events.ScenarioFinished,
    by_label: dict[str, Operation],
    results: dict[tuple[str, str], CheckResult],
    config: SchemaRunConfig,
    errors: list[events.NonFatalError],
) -> bool:
    """Fold a scenario's check outcomes into `results`; True when a check crashed (`errors` say how)."""
    recorder = event.recorder
    operation = by_label.get(recorder.label)
    crashed = False
    if operation is None:
        return crashed
    for case_id, nodes in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        for node in nodes:
            result = results.get((operation.label, node.name))
            if result is None or result.skip_reason is not None:
                continue
            if (
                node.name == "unsupported_method"
                and node.status == EngineStatus.FAILURE
                and interaction is not None
                and _declared_elsewhere(operation, interaction.request.method, interaction.request.uri, config)
            ):
                continue
            if node.status == EngineStatus.SUCCESS:
                result.passed += 1
            elif node.status == EngineStatus.FAILURE and node.failure_info is not None:
                failure = node.failure_info.failure
                response = interaction.response if interaction is not None else None
                actual = failure.title
                if response is not None:
                    body = response.content[:300].decode("utf-8", "replace") if response.content else ""
                    actual = (
                        f"{response.status_code}: {body}" if body else f"{response.status_code} (empty body)"
                    )
                curl = node.failure_info.code_sample
                sent = _sent(interaction)
                result.add_failure(
                    Finding(
                        title=failure.title,
                        expected=_EXPECTATIONS.get(node.name, node.name),
                        actual=actual,
                        curl=curl,
                        detail=failure.message,
                        request=sent if sent is not None and needs_body_file(curl, sent.body) else None,
                    )
                )
            elif node.status == EngineStatus.ERROR:
                crashed = True
                sent = _sent(interaction)
                curl = curl_of_sent(sent) if sent is not None else ""
                error = errors[-1].value if errors else None
                what = f"{type(error).__name__}: {error}" if error is not None else "an error it did not name"
                response = interaction.response if interaction is not None else None
                on = f" on the response {response.status_code}" if response is not None else ""
                result.add_failure(
                    Finding(
                        title=f"Check crashed: {type(error).__name__ if error is not None else 'error'}",
                        expected=_EXPECTATIONS.get(node.name, node.name),
                        actual=f"the check raised {what}{on}",
                        curl=curl,
                        request=sent if sent is not None and needs_body_file(curl, sent.body) else None,
                    )
                )
    return crashed


def _sent(interaction: Any) -> SentRequest | None:
    """The request of an interaction as it went on the wire, for a reproducer that sends its body from a file."""
    if interaction is None:
        return None
    request = interaction.request
    return SentRequest(
        method=request.method,
        url=request.uri,
        headers=tuple((name, value) for name, values in request.headers.items() for value in values),
        body=request.body or b"",
    )


def _declared_elsewhere(operation: Operation, method: str, uri: str, config: SchemaRunConfig) -> bool:
    """Whether another operation declares `method` on a path template that also matches `uri`.

    Immutable's `GET .../nfts/refresh-metadata` is undeclared on the refresh path but is also `GetNFT` with
    `token_id` "refresh-metadata". OpenAPI prefers the concrete path (405), while a router that falls through
    to the template answers GetNFT's 400 for a token id that is not a uint256: the spec allows both, so
    Schemathesis' demand for 405 is no finding there.
    """
    base = urlsplit(config.base_url).path.rstrip("/")
    path = urlsplit(uri).path
    if base and path.startswith(base):
        path = path[len(base) :]
    return any(
        other.method == method.upper() and _template(other.path).fullmatch(path) is not None
        for other in operations(operation.api)
        if other != operation
    )


@cache
def _template(path: str) -> re.Pattern[str]:
    """An OpenAPI path template as a pattern: each `{name}` is one non-empty path segment."""
    parts = re.split(r"\{[^}/]+\}", path)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def _record_error(
    event: events.NonFatalError, by_label: dict[str, Operation], results: dict[tuple[str, str], CheckResult]
) -> None:
    """An operation that could not be tested at all is a failure of every check on it, not a silent skip."""
    operation = by_label.get(event.label)
    targets = [r for (label, _), r in results.items() if operation is None or label == operation.label]
    finding = Finding(
        title=f"Could not test: {event.info.title}",
        expected="the operation to be testable",
        actual=event.info.message[:500],
        curl="",
    )
    for result in targets[:1] if operation is None else targets:
        result.add_failure(finding)
