"""The request journal: what the mock was asked and what it answered, newest last, in a bounded ring buffer."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mockserver.apis import registry
from mockserver.settings import REDACTED

# Credentials never reach the journal: tests and the web page show it, and people paste it into issues.
_ALWAYS_REDACTED = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-admin-token"})
# Query parameters named like these carry secrets (an API key in the URL, a signed link): redacted too.
_SECRET_QUERY = re.compile(r"key|token|secret|password|passwd|signature|auth|session", re.IGNORECASE)
_redacted: tuple[tuple[object, ...], frozenset[str]] | None = None


def redacted_headers() -> frozenset[str]:
    """The headers the journal never shows: every API's credential header besides the usual ones."""
    global _redacted
    apis = registry()
    if _redacted is None or _redacted[0] is not apis:
        _redacted = (apis, _ALWAYS_REDACTED | {api.credential_header.lower() for api in apis})
    return _redacted[1]

RawHeaders = Sequence[tuple[bytes, bytes]]
# `JournalEntry`'s fields in their order, all but `id`: what `Journal.record` keeps.
Fields = tuple[float, str | None, str | None, str, str, str, RawHeaders, bytes, int, RawHeaders, bytes, float,
               list[dict[str, str]] | None]


# Not frozen (only `Journal.add` changes an entry, to number it) and not keyword-only: `Journal.record` keeps an
# exchange as a tuple of the fields in order, and its entry is built from that when first read.
@dataclasses.dataclass
class JournalEntry:
    """One request and its response, with credentials redacted and bodies summarised.

    Headers and bodies are kept as they went over the wire (the first 64 KiB of each body) and decoded,
    redacted and summarised when first read: serving a request then costs no parsing for a journal that
    nobody may read.
    """

    time: float
    api: str | None
    operation: str | None
    method: str
    path: str
    query: str
    raw_request_headers: RawHeaders = dataclasses.field(repr=False)
    raw_request_body: bytes = dataclasses.field(repr=False)
    status: int
    raw_response_headers: RawHeaders = dataclasses.field(repr=False)
    raw_response_body: bytes = dataclasses.field(repr=False)
    duration_ms: float  # as measured; rounded to the microsecond when shown
    # What the validating proxy found wrong in this exchange; None when nothing checked it (the mock's own).
    violations: list[dict[str, str]] | None = None
    id: int = 0  # set by `Journal.add`

    @functools.cached_property
    def request_headers(self) -> dict[str, str]:
        return redact(_decoded(self.raw_request_headers))

    @functools.cached_property
    def request_body(self) -> Any:
        return summarise_body(self.request_headers.get("content-type", ""), self.raw_request_body)

    @functools.cached_property
    def response_headers(self) -> dict[str, str]:
        return redact(_decoded(self.raw_response_headers))

    @functools.cached_property
    def response_body(self) -> Any:
        return summarise_body(self.response_headers.get("content-type", ""), self.raw_response_body)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "time": self.time, "api": self.api, "operation": self.operation, "method": self.method,
            "path": self.path, "query": redact_query(self.query), "request_headers": self.request_headers,
            "request_body": self.request_body, "status": self.status, "response_headers": self.response_headers,
            "response_body": self.response_body, "duration_ms": round(self.duration_ms, 3),
            **({"violations": self.violations} if self.violations is not None else {}),
        }


def _built(kept: JournalEntry | tuple[int, Fields]) -> JournalEntry:
    if isinstance(kept, JournalEntry):
        return kept
    id_, fields = kept
    return JournalEntry(*fields, id_)


def _decoded(headers: RawHeaders) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def redact_query(query: str) -> str:
    """A query string with the values of parameters named like secrets replaced."""
    if not query or not _SECRET_QUERY.search(query):
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, REDACTED if _SECRET_QUERY.search(name) else value) for name, value in pairs])


def redact(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict (later values win), credentials replaced."""
    hidden = redacted_headers()
    return {name.lower(): (REDACTED if name.lower() in hidden else value) for name, value in headers}


class Journal:
    """A thread-safe ring buffer of the last `capacity` exchanges."""

    def __init__(self, capacity: int = 1000) -> None:
        # An entry, or a recorded exchange's id and fields not yet built into one.
        self._entries: deque[JournalEntry | tuple[int, Fields]] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: JournalEntry) -> JournalEntry:
        """Keep `entry`, numbered after the last one (its `id` is set here)."""
        with self._lock:
            entry.id = next(self._ids)
            self._entries.append(entry)
        return entry

    def record(self, fields: Fields) -> None:
        """Keep an exchange given as `JournalEntry`'s fields in their order, `id` left out (numbered here). Its
        entry is built when first read: every request to an API records one, and a tuple costs a fraction of an
        entry to make and, once the ring is full, to drop."""
        with self._lock:
            self._entries.append((next(self._ids), fields))

    def query(
        self,
        *,
        api: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        method: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first; `limit` keeps the newest ones."""
        with self._lock:
            entries = [_built(kept) for kept in self._entries]
            # Kept built, so that what an entry decodes when first read is decoded once.
            self._entries = deque(entries, maxlen=self._entries.maxlen)
        wanted = [
            e for e in entries
            if (api is None or e.api == api) and (operation is None or e.operation == operation)
            and (status is None or e.status == status) and (method is None or e.method == method.upper())
            and (since is None or e.time >= since) and (until is None or e.time <= until)
        ]
        return wanted[-limit:] if limit else wanted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Journal(entries={len(self)}, capacity={self._entries.maxlen})"


def summarise_body(content_type: str, body: bytes, *, limit: int = 64 * 1024) -> Any:
    """What a body said, small enough to keep: parsed JSON, multipart part names, or its type and size."""
    media = content_type.split(";")[0].strip().lower()
    if not body:
        return None
    if media.endswith("json") and len(body) <= limit:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            pass
    if media == "multipart/form-data":
        return {"parts": _multipart_parts(body[:limit]), "size": len(body)}
    return {"content_type": media or None, "size": len(body)}


def _multipart_parts(head: bytes) -> list[dict[str, str]]:
    """Names, file names and short text values of the parts whose headers fall in `head`."""
    parts = []
    pattern = re.compile(rb'Content-Disposition:[^\r\n]*?name="([^"]*)"(?:; filename="([^"]*)")?[^\r\n]*\r\n'
                         rb'(?:[^\r\n]+\r\n)*\r\n', re.IGNORECASE)
    for match in pattern.finditer(head):
        part: dict[str, str] = {"name": match.group(1).decode(errors="replace")}
        if match.group(2) is not None:
            part["filename"] = match.group(2).decode(errors="replace")
        else:
            value_end = head.find(b"\r\n--", match.end())
            value = head[match.end(): value_end if value_end != -1 else match.end() + 200]
            part["value"] = value[:200].decode(errors="replace")
        parts.append(part)
    return parts
