"""A huge upload is refused without the server holding it: peak memory stays flat."""

from __future__ import annotations

import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mockserver.testing import MockServer
from tests.mockserver.support import IMX_ALPHA, IMX_REFRESH, RAIR_OWNER, RAIR_TOKEN_PATH, TKN_BEARER, TKN_PATH

pytestmark = pytest.mark.network

GiB = 1024**3
CHUNK = b"\0" * (1024 * 1024)  # one buffer, sent again and again: the client itself stays small
BOUNDARY = "memtestboundary"


def peak_rss_bytes() -> int:
    """This process's high-water mark of resident memory (the server runs in it, on a thread)."""
    match = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert match, "no VmHWM in /proc/self/status"
    return int(match.group(1)) * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(http=True) as mock:
        yield mock


def upload(server: MockServer, method: str, path: str, headers: dict[str, str], *, chunked: bool) -> int:
    """Send a 1 GiB body until the server answers; return the status it answered with."""
    url = urlsplit(server.base_url)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(GiB)}
    head = {"Host": url.netloc, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **framing, **headers}
    request = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request.encode())
        preamble = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.png\"\r\n"
                    "Content-Type: image/png\r\n\r\n").encode()
        sent = 0
        for part in [preamble] + [CHUNK] * (GiB // len(CHUNK)):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending
            data = f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(part)
        answer = sock.recv(4096).decode("latin-1")
    assert sent < GiB, "the server read the whole gigabyte before answering"
    return int(answer.split(" ", 2)[1])


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path", "headers", "status"), [
    ("POST", RAIR_TOKEN_PATH, {"x-rair-token": RAIR_OWNER}, 413),
    ("PUT", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}"}, 413),
    ("POST", IMX_REFRESH, {"x-immutable-api-key": IMX_ALPHA}, 400),  # Immutable documents no 413: a 400
])
def test_one_gigabyte_upload_is_refused_with_flat_memory(
    server: MockServer, method: str, path: str, headers: dict[str, str], status: int, chunked: bool
) -> None:
    before = peak_rss_bytes()
    assert upload(server, method, path, headers, chunked=chunked) == status
    grown = peak_rss_bytes() - before
    assert grown < 50 * 1024 * 1024, f"peak RSS grew by {grown / 2**20:.1f} MiB"
