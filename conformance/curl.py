"""Shell snippets that resend a `RequestSpec` with curl, files included, to reproduce a failure by hand."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from urllib.parse import urlencode

from conformance.exchange import FilePart, RequestSpec, SentRequest, SizedStream

# A reproducer longer than this is no longer something to paste: its body goes into a file (`curl_with_body_file`).
LONG_REPRODUCER = 2048
# Headers curl sets itself from the URL and the body.
_CURL_SETS = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})

# Files up to this size are written out byte for byte with printf; larger ones are described by how to build
# them.
_INLINE_LIMIT = 4096


def curl_command(spec: RequestSpec, base_url: str) -> str:
    """A copy-pasteable command (with the lines that create any uploaded files first) that repeats `spec`."""
    url = spec.path if "://" in spec.path else base_url.rstrip("/") + spec.path
    if spec.params:
        url += "?" + urlencode(dict(spec.params))
    lines = [_file_preparation(part) for part in spec.files]
    args = ["curl", "-sS", "-i", "-X", spec.method, shlex.quote(url)]
    for name, value in spec.headers.items():
        args += ["-H", shlex.quote(f"{name}: {value}")]
    if spec.json is not None:
        args += [
            "-H",
            shlex.quote("Content-Type: application/json"),
            "--data-raw",
            shlex.quote(json.dumps(spec.json, separators=(",", ":"))),
        ]
    for name, value in spec.form.items():
        # --form-string sends the value literally; -F would read `@file` or `<file` out of it.
        args += ["--form-string", shlex.quote(f"{name}={value}")]
    for part in spec.files:
        kind = f";type={part.content_type}" if part.content_type else ""
        args += ["-F", shlex.quote(f"{part.field}=@{part.filename}{kind}")]
    lines.append(" ".join(args))
    return "\n".join(lines)


def needs_body_file(curl: str, body: bytes) -> bool:
    """Whether a reproducer must send its body from a file: too long to paste, or not text a shell keeps.

    A command line cannot carry a NUL (bash's `$'...'` ends the string at the first `\\x00`), and bytes that
    are not UTF-8 do not survive a copy and paste, so such a body would arrive cut or changed.
    """
    if len(curl) > LONG_REPRODUCER or b"\x00" in body:
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def curl_of_sent(request: SentRequest) -> str:
    """A curl command resending `request` as it went out, for when Schemathesis gives no reproducer of its own.

    A body a command line cannot carry (see `needs_body_file`) is left out here; reports then send it from a
    file with `curl_with_body_file`.
    """
    args = ["curl", "-sS", "-i", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers:
        if name.lower() not in _CURL_SETS:
            args += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body and not needs_body_file("", request.body):
        args += ["--data-binary", shlex.quote(request.body.decode("utf-8"))]
    return " ".join(args)


def curl_with_body_file(request: SentRequest, body_file: Path) -> str:
    """A curl command resending `request` with its body, byte for byte, read from `body_file`."""
    args = ["curl", "-sS", "-i", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers:
        if name.lower() not in _CURL_SETS:
            args += ["-H", shlex.quote(f"{name}: {value}")]
    args += ["--data-binary", shlex.quote(f"@{body_file}")]
    return " ".join(args)


def _file_preparation(part: FilePart) -> str:
    name = shlex.quote(part.filename)
    content = part.content
    if isinstance(content, SizedStream):
        prefix = _printf_bytes(content.prefix)
        padding = content.size - len(content.prefix)
        return f"{{ printf {prefix}; head -c {padding} /dev/zero; }} > {name}  # {content.size} bytes"
    if len(content) <= _INLINE_LIMIT:
        return f"printf {_printf_bytes(content)} > {name}"
    return f"head -c {len(content)} /dev/urandom > {name}  # stand-in: the original was {len(content)} bytes"


def _printf_bytes(data: bytes) -> str:
    """A printf format printing exactly `data` (every byte escaped as octal: no shell or printf surprises)."""
    return "'" + "".join(f"\\{byte:03o}" for byte in data) + "'"
