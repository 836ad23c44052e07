"""Requests as the behavioural checks describe them, sent with httpx and kept for the report.

A check builds a `RequestSpec` rather than calling httpx directly so that every request it sends can be shown
back as a copy-pasteable curl command, file parts included, when it leads to a failure.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from typing import Any

import httpx


class SizedStream(io.RawIOBase):
    """A file of `size` bytes, `prefix` then zeros, produced as it is read: never in memory whole."""

    def __init__(self, prefix: bytes, size: int) -> None:
        super().__init__()
        self.prefix = prefix
        self.size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self.size - self._position)
        if count <= 0:
            return 0
        start = self._position
        head = self.prefix[start : start + count] if start < len(self.prefix) else b""
        view[: len(head)] = head
        view[len(head) : count] = bytes(count - len(head))
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def __repr__(self) -> str:
        return f"SizedStream(prefix={self.prefix[:8]!r}, size={self.size})"


@dataclasses.dataclass(frozen=True, kw_only=True)
class FilePart:
    """A file in a multipart body: its field, original name, declared media type and content."""

    field: str
    filename: str
    content_type: str | None
    content: bytes | SizedStream

    @property
    def size(self) -> int:
        return self.content.size if isinstance(self.content, SizedStream) else len(self.content)

    def __repr__(self) -> str:
        return f"FilePart({self.field!r}, {self.filename!r}, {self.content_type!r}, size={self.size})"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestSpec:
    """One HTTP request: JSON (`json`) or multipart (`form` and `files`) or no body."""

    method: str
    path: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    json: Any = None
    form: Mapping[str, str] = dataclasses.field(default_factory=dict)
    files: tuple[FilePart, ...] = ()

    @property
    def is_multipart(self) -> bool:
        return bool(self.form or self.files)

    def __repr__(self) -> str:
        return f"RequestSpec({self.method} {self.path})"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SentRequest:
    """A request as it went on the wire: what a reproducer needs when its body is too long to paste."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        return f"SentRequest({self.method} {self.url}, {len(self.body)} bytes)"


@dataclasses.dataclass(frozen=True)
class Exchange:
    """A request that was sent and the response it got."""

    request: RequestSpec
    url: str
    response: httpx.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def media_type(self) -> str:
        """The response's Content-Type without parameters, lower-cased; empty when there is none."""
        return str(self.response.headers.get("content-type", "")).split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return self.response.json()
        except ValueError:
            return None

    def sent(self) -> SentRequest:
        """The request exactly as httpx sent it, multipart boundary and all (streams are read again)."""
        request = self.response.request
        return SentRequest(
            method=request.method, url=str(request.url), headers=tuple(request.headers.items()), body=request.read()
        )

    def summary(self, limit: int = 400) -> str:
        """Status line and the start of the body, as reports show it."""
        text = self.response.text
        body = text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
        return (
            f"{self.status} {self.response.reason_phrase}: {body}" if body else f"{self.status} (empty body)"
        )


class Http:
    """An httpx client bound to the base URL that turns `RequestSpec`s into `Exchange`s."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url + path

    def is_own(self, path: str) -> bool:
        """True for a path, or a URL under the base URL."""
        return "://" not in path or path == self.base_url or path.startswith(self.base_url + "/")

    def send(self, spec: RequestSpec) -> Exchange:
        url = self.url(spec.path)
        kwargs: dict[str, Any] = {"headers": dict(spec.headers), "params": dict(spec.params) or None}
        if spec.json is not None:
            kwargs["json"] = spec.json
        if spec.files:
            kwargs["data"] = dict(spec.form)
            kwargs["files"] = [
                (f.field, (f.filename, _rewound(f.content), f.content_type)) for f in spec.files
            ]
        elif spec.form:
            kwargs = _text_only_multipart(kwargs, spec.form)
        response = self.client.request(spec.method, url, **kwargs)
        return Exchange(spec, url, response)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Exchange:
        return self.send(RequestSpec(method="GET", path=path, headers=headers or {}))

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"Http(base_url={self.base_url!r})"


def _rewound(content: bytes | SizedStream) -> bytes | SizedStream:
    if isinstance(content, SizedStream):
        content.seek(0)
    return content


def _text_only_multipart(kwargs: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """httpx encodes multipart only when files are present; a form of text fields alone is encoded here."""
    boundary = "conformance-boundary-7d1f0c"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in form.items()
    ]
    headers = {**kwargs["headers"], "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return {**kwargs, "headers": headers, "content": b"".join(parts) + f"--{boundary}--\r\n".encode()}
