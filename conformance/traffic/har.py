"""Traffic as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): written by the mock's recording proxy,
read by `conformance validate-traffic`, and opened by browsers' developer tools and other HAR viewers.

Bodies that are not UTF-8 text are kept in base64: a response's `content` says so with `encoding`, as the
format provides; a request's `postData` with the custom field `_encoding` (HAR has no field of its own for it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.errors import ConformanceError
from conformance.traffic.rules import HttpExchange

HAR_VERSION = "1.2"


class HarError(ConformanceError):
    """A file that is not HAR, or an entry that lacks what a check needs."""


def har_entry(exchange: HttpExchange, *, url: str, started: datetime, duration_ms: float) -> dict[str, Any]:
    """One HAR entry: `url` is where the request went (scheme, host, path and query)."""
    request_type = exchange.request_header("content-type")
    response_type = exchange.response_header("content-type")
    request: dict[str, Any] = {
        "method": exchange.method.upper(), "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _headers(exchange.request_headers),
        "queryString": [{"name": name, "value": value}
                        for name, value in parse_qsl(exchange.query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(exchange.request_body),
    }
    if exchange.request_body:
        text, encoding = _text(exchange.request_body)
        request["postData"] = {"mimeType": request_type, "text": text,
                               **({"_encoding": encoding} if encoding else {})}
    text, encoding = _text(exchange.response_body)
    content: dict[str, Any] = {"size": len(exchange.response_body), "mimeType": response_type, "text": text,
                               **({"encoding": encoding} if encoding else {})}
    return {
        "startedDateTime": started.isoformat(timespec="milliseconds"),
        "time": round(duration_ms, 3),
        "request": request,
        "response": {
            "status": exchange.status, "statusText": _reason(exchange.status), "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": _headers(exchange.response_headers), "content": content,
            "redirectURL": exchange.response_header("location"), "headersSize": -1,
            "bodySize": len(exchange.response_body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(duration_ms, 3), "receive": 0},
    }


def har_document(entries: Sequence[Mapping[str, Any]], *, creator: str, version: str) -> dict[str, Any]:
    return {"log": {"version": HAR_VERSION, "creator": {"name": creator, "version": version},
                    "entries": list(entries)}}


def read_har(path: Path) -> list[tuple[str, HttpExchange]]:
    """The URL and exchange of each entry of a HAR file, in its order (raises `HarError` naming what is wrong)."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as error:
        raise HarError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise HarError(f"{path} is not JSON: {error}") from None
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{path} is not a HAR file: it has no log.entries list")
    return list(_exchanges(path, entries))


def _exchanges(path: Path, entries: Iterable[Any]) -> Iterator[tuple[str, HttpExchange]]:
    for number, entry in enumerate(entries, 1):
        try:
            request, response = entry["request"], entry["response"]
            url = urlsplit(request["url"])
            post = request.get("postData") or {}
            content = response.get("content") or {}
            yield request["url"], HttpExchange(
                method=str(request["method"]).upper(), path=url.path or "/", query=url.query,
                request_headers=_pairs(request.get("headers", [])),
                request_body=_bytes(post.get("text", ""), post.get("_encoding")),
                status=int(response["status"]),
                response_headers=_pairs(response.get("headers", [])),
                response_body=_bytes(content.get("text", ""), content.get("encoding")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise HarError(f"{path}: entry {number} lacks a request or response HAR 1.2 requires ({error!r})") from None


def _headers(headers: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _pairs(headers: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(str(header["name"]), str(header["value"])) for header in headers]


def _text(body: bytes) -> tuple[str, str | None]:
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def _bytes(text: str, encoding: str | None) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
