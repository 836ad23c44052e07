"""What an API brings to the mock (`ApiInfo`), and what its operations share: reading uploads, file URLs.

Nothing here knows Connexion or Starlette: handlers take plain values and files by the `UploadedFile` protocol,
and return a body, a (body, status[, headers]) tuple or a `Reply`; the web layer does the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from mockserver.apis.generate import FixturesGenerator
from mockserver.apis.page import PageView
from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.files import FILES_PREFIX, Upload
from mockserver.fixtures import Fixtures, FixturesSection
from mockserver.settings import MiB, Settings, SettingsSection
from mockserver.store import Record, RecordSets, Store

ErrorRenderer = Callable[[ApiError], dict[str, Any]]
# One operation: the operation's parameters and body as keywords, plus `token_info` (what `principal` returned)
# and, when it takes one, `base_url` (where the client reached this server).
Handler = Callable[..., Awaitable[Any]]
Service = TypeVar("Service")
SeedPart = tuple[RecordSets, list[tuple[bytes, str]]]
# Room for multipart framing (boundaries, part headers, text fields) beside an upload's files.
MULTIPART_OVERHEAD = 1 * MiB


class UploadedFile(Protocol):
    """A file part as the web layer hands it over (Starlette's `UploadFile` is one)."""

    filename: str | None
    content_type: str | None

    async def read(self, size: int = -1) -> bytes: ...


@dataclasses.dataclass(frozen=True)
class Reply:
    """A response a handler shapes itself: a status with a body of exactly these bytes and no Content-Type
    unless given."""

    status: int
    body: bytes = b""
    content_type: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordedRead:
    """A successful read a validating proxy saw: its operationId, path and parsed JSON body."""

    operation: str
    path: str
    body: Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiInfo:
    """What distinguishes one API: its name, spec file, path prefix and how it words errors."""

    name: str
    title: str
    # What people call it, for the command's help: "ACME", "ACME Cloud".
    label: str
    spec_file: str
    prefix: str
    render_error: ErrorRenderer
    # The request header carrying the client's credential (keys per-credential operation limits).
    credential_header: str
    missing_credentials: str
    # For an API whose credential goes in `Authorization`: the 401 message when that header is malformed.
    malformed_credentials: str | None = None
    # A body larger than this is an error of this status, answered before the body is read whole.
    oversize_status: int
    # A body whose Content-Type the operation does not take is an error of this status.
    media_type_status: int = 415


@dataclasses.dataclass(frozen=True)
class ApiContext:
    """What an API's service is built from: the server's store, clock and settings, and where limiters count."""

    store: Store
    clock: Clock
    settings: Settings
    # The `limits` storage URI limiters use, and the key prefix of this server's limiters in it.
    limits_storage: str
    limits_prefix: str
    # A new trace id: from the seed when the server has one, else unpredictable.
    trace_id: Callable[[], str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Api(ApiInfo, Generic[Service]):
    """One API as the mock serves it: what the core knows (`ApiInfo`), plus its records, its service's
    operations and how a credential becomes the principal its handlers receive."""

    # The API's records and files in a store loaded with these fixtures.
    seed: Callable[[Fixtures], SeedPart]
    # Its service, built once per server (handlers hold it).
    build: Callable[[ApiContext], Service]
    # The handler of each operationId of its spec, bound to the API's service.
    operations: Callable[[Service], Mapping[str, Handler]]
    # Connexion's `token_info` for a credential (`sub` plus the typed principal), or `ApiError` 401.
    principal: Callable[[Service, str], dict[str, Any]]
    # What the admin API's state (and so the page) shows of it, at a time.
    state: Callable[[Service, float], dict[str, Any]]
    # The most bytes a request of this method may carry when it uploads files; None: the JSON cap.
    upload_cap: Callable[[Settings, str], int | None] = lambda settings, method: None
    # Writes configured limits into the spec it serves, so the spec states what the server enforces.
    configure_spec: Callable[[dict[str, Any], Settings], None] = lambda spec, settings: None
    # Request headers its clients send besides the credential header, which a browser must be allowed to send
    # (CORS), and the response headers they read.
    cors_request_headers: tuple[str, ...] = ()
    cors_response_headers: tuple[str, ...] = ()
    # Headers of a 429 forced by `Prefer` or a fault, as its own 429 carries them; None: `Retry-After: 1`.
    forced_429_headers: Callable[[Service], dict[str, str]] | None = None
    # Gives the service settings changed at run time (the context holds the new ones; the previous are given).
    configure: Callable[[Service, ApiContext, Settings], None] = lambda service, context, previous: None
    # Forgets what a reset forgets beside the store (quota spent, say).
    reset: Callable[[Service], None] = lambda service: None
    # What the admin API's rate-limits view shows of it, and that view's JSON schema; None: it has no limits of its
    # own.
    rate_limits: Callable[[Service], dict[str, Any]] | None = None
    rate_limits_schema: dict[str, Any] | None = None
    # What the page at `/` shows of it (served by `GET /__mock/apis`); None: only its name and links.
    page: PageView | None = None
    # Its section of the fixtures (`<name>:` in a fixtures file), if it has one.
    fixtures_section: FixturesSection | None = None
    # How it makes its section of generated fixtures (`mockserver fixtures`), if it takes part.
    fixtures_generator: FixturesGenerator | None = None
    # Its section of the settings (`settings.<name>`), if it has one.
    settings_section: SettingsSection | None = None
    # Where in its settings section its quota is (a `RateLimitSettings`, what `MockServer.set_limit` changes), if it
    # has one.
    quota_setting: str | None = None
    # The `limits` storage its settings name, which every limiter of the server then counts in; None: it names
    # none (then limiters count in memory, or in a Redis store's Redis).
    limits_storage: Callable[[Settings], str] | None = None
    # Entered around each request to it (and left once answered): per-request state of its own.
    request_scope: Callable[[Service], AbstractContextManager[object]] = lambda service: contextlib.nullcontext()
    # Its fixtures section holding the records these reads returned (`mockserver proxy --record`); None: the
    # recording holds nothing of it.
    recorded_fixtures: Callable[[Sequence[RecordedRead]], dict[str, Any]] | None = None
    # A limit on every request from one client address (its host), counted before anything else looks at the
    # request: the headers every answer then carries, or `ApiError` (429) once none remain. None: no such limit.
    client_limit: Callable[[Service, str], Mapping[str, str]] | None = None


def random_trace_id() -> str:
    """A trace id (32 hex digits) nobody can predict."""
    return secrets.token_hex(16)


async def read_uploads(field: str, files: Iterable[UploadedFile], limit: int) -> list[Upload]:
    """Read each uploaded file, stopping one byte past `limit` so an oversize file is never read whole."""
    uploads = []
    for file in files:
        data = await file.read(limit + 1)
        upload = Upload(field=field, filename=file.filename or "", declared_type=file.content_type, data=data)
        check_file_size(upload, limit)
        uploads.append(upload)
    return uploads


def check_file_size(upload: Upload, limit: int) -> None:
    """413 naming the file when it is larger than `limit` bytes."""
    if len(upload.data) > limit:
        raise ApiError(413, f"File {upload.filename!r} is larger than the {limit} byte limit.", field=upload.field)


def file_urls(base_url: str) -> Callable[[str], str]:
    """Where this server serves a stored file, by its key, as seen by the client that asked."""
    prefix = base_url.rstrip("/") + FILES_PREFIX
    return lambda key: prefix + key


def in_seed_order(found: Iterable[tuple[Any, Record]], seed_keys: Iterable[Any]) -> list[Record]:
    """Records listed in the order of the seed that loaded them (the fixtures' order)."""
    by_key = dict(found)
    return [by_key[key] for key in seed_keys if key in by_key]
