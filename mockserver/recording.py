"""What a validating proxy records (`mockserver proxy --record DIR`): the traffic as HAR, and the records the
upstream returned from reads as a fixtures file for `mockserver serve --fixtures`.

Both files are rewritten after every exchange, so they are complete whenever the proxy stops. Credentials never
reach them: the headers the journal redacts (`Authorization`, cookies, every API's credential header), the
cookies a response sets, and query parameters named like a secret (`mockserver.journal.redact_query`) are
replaced by `[redacted]`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from conformance.traffic import HttpExchange
from conformance.traffic.har import har_document, har_entry
from mockserver import __version__
from mockserver.apis import RecordedRead, api_for_path, registry
from mockserver.errors import ConfigError
from mockserver.journal import redact_query, redacted_headers
from mockserver.settings import REDACTED

HAR_FILE = "traffic.har"
FIXTURES_FILE = "fixtures.yaml"


class Recording:
    """Appends each exchange to `DIR/traffic.har` and keeps `DIR/fixtures.yaml` in step with the reads seen."""

    def __init__(self, directory: Path, *, upstream: str) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the recording directory {directory}: {exc.strerror}") from None
        self.directory = directory
        self.upstream = upstream.rstrip("/")
        self._entries: list[dict[str, Any]] = []
        self._reads: dict[str, list[RecordedRead]] = {}
        self._lock = threading.Lock()

    @property
    def har_path(self) -> Path:
        return self.directory / HAR_FILE

    @property
    def fixtures_path(self) -> Path:
        return self.directory / FIXTURES_FILE

    def add(self, exchange: HttpExchange, *, operation: str | None, started: datetime, duration_ms: float) -> None:
        clean = redacted(exchange)
        url = self.upstream + clean.path + (f"?{clean.query}" if clean.query else "")
        entry = har_entry(clean, url=url, started=started, duration_ms=duration_ms)
        api = api_for_path(exchange.path)
        with self._lock:
            self._entries.append(entry)
            _write(self.har_path, json.dumps(har_document(self._entries, creator="mockserver proxy",
                                                          version=__version__), indent=2, ensure_ascii=False))
            if api is None or api.recorded_fixtures is None or operation is None or exchange.status != 200:
                return
            try:
                body = json.loads(exchange.response_body)
            except ValueError:
                return
            self._reads.setdefault(api.name, []).append(RecordedRead(operation=operation, path=exchange.path,
                                                                     body=body))
            _write(self.fixtures_path, self.fixtures_yaml())

    def fixtures_yaml(self) -> str:
        """Every API's section built from the reads recorded so far, in the registry's order."""
        document: dict[str, Any] = {}
        for api in registry():
            reads = self._reads.get(api.name)
            if reads and api.recorded_fixtures is not None:
                section = api.recorded_fixtures(reads)
                if section:
                    document[api.name] = section
        header = (f"# Recorded by mockserver proxy from {self.upstream}: the records its reads returned.\n"
                  "# No credentials are recorded: add your own (see mockserver/data/fixtures.yaml) to write.\n")
        return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)

    def __repr__(self) -> str:
        return f"Recording({str(self.directory)!r}, entries={len(self._entries)})"


def redacted(exchange: HttpExchange) -> HttpExchange:
    """The exchange without credentials: in headers, cookies both ways, and query parameters named as secrets."""
    hidden = redacted_headers()

    def clean(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, REDACTED if name.lower() in hidden else value) for name, value in headers]

    return dataclasses.replace(exchange, request_headers=clean(exchange.request_headers),
                               response_headers=clean(exchange.response_headers), query=redact_query(exchange.query))


def _write(path: Path, text: str) -> None:
    """Replace the file whole, so a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
