"""Slow and greedy clients are bounded: a stalled body is cut off (408), oversized heads are refused (431), and
large bodies in flight at once are limited (503 with Retry-After beyond), so memory stays bounded.

Each test talks to a real server on a free loopback port over raw sockets, since what is tested is what a
client that misbehaves on the wire gets. The timeouts are tiny settings; no test sleeps.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mockserver.testing import MockServer
from tests.mockserver import media
from tests.mockserver.support import IMX_ALPHA, IMX_REFRESH, TKN_BEARER, TKN_PATH, Multipart, tkn, tokenization_service

pytestmark = pytest.mark.network

MiB = 1024 * 1024


class Answer:
    """A raw HTTP response: status, headers (lower-case names) and body."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ", 2)[1])
        self.headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}

    def json(self) -> Any:
        return json.loads(self.body)


def connect(server: MockServer) -> socket.socket:
    url = urlsplit(server.base_url)
    assert url.hostname is not None
    assert url.port is not None
    return socket.create_connection((url.hostname, url.port), timeout=20)


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: mock.test", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> Answer:
    """Everything the server sends until it closes the connection (every answer here closes it)."""
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return Answer(bytes(data))


def read_one(sock: socket.socket) -> Answer:
    """One response with a Content-Length, the connection left open."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    answer = Answer(bytes(data))
    while len(answer.body) < int(answer.headers["content-length"]):
        answer.body += sock.recv(65536)
    return answer


def tokenization_update(size: int, files: int = 1) -> Multipart:
    """An update with `files` images of `size` bytes each."""
    image = media.png(8, 8)
    update = Multipart().fields({"name": "Big", "description": "upload"})
    for n in range(files):
        update.file("images", f"big{n}.png", image + bytes([n]) * max(0, size - len(image)), "image/png")
    return update


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    settings = {"clients.body_timeout": 0.5, "clients.body_deadline": 1.5, "clients.header_timeout": 1.0,
                "clients.max_header_bytes": 8192, "clients.max_headers": 20}
    with MockServer(http=True, settings=settings) as mock:
        yield mock


class TestStalledBody:
    def test_multipart_body_that_stops_is_cut_off_with_408_and_nothing_stored(self, server: MockServer) -> None:
        body = tokenization_update(10_000).body()
        before = tokenization_service(server.services).records.token(TKN_PATH.rsplit("/", 1)[1])
        with connect(server) as sock:
            sock.sendall(head("PUT", TKN_PATH, {
                "Authorization": f"Bearer {TKN_BEARER}", "Content-Type": Multipart().content_type,
                "Content-Length": str(len(body))}) + body[:1000])
            answer = read_answer(sock)  # the server closes the connection after answering

        assert answer.status == 408
        assert answer.headers["connection"] == "close"
        assert answer.json()["status"] == 408
        assert "stopped arriving" in answer.json()["message"]
        assert tokenization_service(server.services).records.token(TKN_PATH.rsplit("/", 1)[1]) == before

    def test_json_body_that_stops_is_cut_off_in_immutables_shape(self, server: MockServer) -> None:
        with connect(server) as sock:
            sock.sendall(head("POST", IMX_REFRESH, {"x-immutable-api-key": IMX_ALPHA,
                                                    "Content-Type": "application/json", "Content-Length": "500"})
                         + b'{"nft_metadata": [')
            answer = read_answer(sock)

        assert answer.status == 408
        assert answer.json()["code"] == "REQUEST_TIMEOUT"


class TestTricklingBody:
    def test_a_body_trickling_inside_the_gap_timeout_is_cut_off_at_the_deadline(self, server: MockServer) -> None:
        # One byte every 0.1 s never leaves a 0.5 s gap; only the 1.5 s deadline ends it (and frees its slot).
        body = tokenization_update(10_000).body()
        before = tkn(server.services.store).token(TKN_PATH.rsplit("/", 1)[1])
        with connect(server) as sock:
            sock.sendall(head("PUT", TKN_PATH, {
                "Authorization": f"Bearer {TKN_BEARER}", "Content-Type": Multipart().content_type,
                "Content-Length": str(len(body))}))
            sock.settimeout(0.1)
            answered = b""
            for byte in body[:60]:  # at most ~6 s: the pace is set by waiting 0.1 s for an answer
                sock.sendall(bytes([byte]))
                try:
                    answered = sock.recv(65536)
                except TimeoutError:
                    continue
                break
            assert answered, "the server still waited for the body after 60 trickled bytes"
            sock.settimeout(20)
            # The server closes with trickled bytes still unread, so the kernel may reset the connection once the
            # answer is out: what arrived before the reset is the answer.
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    answered += chunk
            answer = Answer(answered)

        assert answer.status == 408
        assert answer.headers["connection"] == "close"
        assert "took longer than 1.5 s" in answer.json()["message"]
        assert tkn(server.services.store).token(TKN_PATH.rsplit("/", 1)[1]) == before


class TestStalledHead:
    def test_a_head_that_stops_arriving_is_408_and_closed(self, server: MockServer) -> None:
        with connect(server) as sock:
            sock.sendall(f"GET {TKN_PATH} HTTP/1.1\r\nHost: localhost\r\n".encode())
            answer = read_answer(sock)  # returns once the server closes the connection

        assert answer.status == 408
        assert answer.headers["connection"] == "close"
        assert answer.json()["status"] == 408  # Tokenization's shape: the path was known
        assert "did not arrive within 1 s" in answer.json()["message"]

    def test_a_connection_that_sends_nothing_is_closed(self, server: MockServer) -> None:
        with connect(server) as sock:
            assert sock.recv(65536) == b""  # closed, not held for ever (the socket gives up after 20 s)

    def test_the_next_head_on_a_kept_alive_connection_is_bounded_too(self, server: MockServer) -> None:
        with connect(server) as sock:
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}"}))
            assert read_one(sock).status == 200
            sock.sendall(f"GET {TKN_PATH} HTTP/1.1\r\nHost: local".encode())
            answer = read_answer(sock)

        assert answer.status == 408


    def test_a_stalled_pipelined_head_does_not_cut_into_the_response_before_it(self, server: MockServer) -> None:
        # The first request takes longer (injected latency) than the second head is given: the first response
        # must still arrive whole, then the connection closes.
        server.services.update({"faults": {"default": {"latency_ms": 1500}}})
        try:
            with connect(server) as sock:
                sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}"})
                             + f"GET {TKN_PATH} HTTP/1.1\r\nHost: local".encode())
                first = read_one(sock)
                rest = sock.recv(65536)
        finally:
            server.services.update({"faults": {"default": {"latency_ms": 0}}})

        assert first.status == 200, first.body
        assert first.json()["id"] == TKN_PATH.rsplit("/", 1)[1]
        assert rest == b""  # closed, with no 408 in the middle of the response


class TestOversizedHead:
    def test_headers_over_the_size_cap_are_431(self, server: MockServer) -> None:
        with connect(server) as sock:
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", "X-Big": "a" * 9000}))
            answer = read_answer(sock)

        assert answer.status == 431
        assert answer.json() == {"status": 431, "field": None,
                                 "message": "The request line and headers exceed 8192 bytes."}

    def test_an_endless_header_is_cut_off_without_being_read(self, server: MockServer) -> None:
        sent = 0
        with connect(server) as sock:
            sock.sendall(f"GET {TKN_PATH} HTTP/1.1\r\nHost: mock.test\r\nX-Endless: ".encode())
            chunk = b"a" * 65536
            try:
                while sent < 64 * MiB:  # the 64 MB header
                    sock.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = read_answer(sock)

        assert answer.status == 431
        assert sent < 8 * MiB, f"the server read {sent} bytes of one header"

    def test_more_headers_than_the_cap_are_431(self, server: MockServer) -> None:
        headers = {f"X-H{n}": "v" for n in range(20)}  # with Host, one over the cap
        with connect(server) as sock:
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", **headers}))
            answer = read_answer(sock)

        assert answer.status == 431
        assert answer.json()["message"] == "The request has more than 20 headers."

    def test_a_head_within_both_caps_is_served(self, server: MockServer) -> None:
        headers = {f"X-H{n}": "v" * 300 for n in range(18)}  # 20 headers with Host and Authorization
        with connect(server) as sock:
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", **headers}))
            assert read_one(sock).status == 200
            # The same connection serves a second request: the count starts again for each head.
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", **headers}))
            assert read_one(sock).status == 200


    def test_a_body_read_with_the_next_head_does_not_count_toward_it(self, server: MockServer) -> None:
        # A pipelining client: one read holds a 100 KiB upload and the start of the next request's head.
        update = tokenization_update(100_000)
        body = update.body()
        first = head("PUT", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", "Content-Type": update.content_type,
                                       "Content-Length": str(len(body))}) + body
        second = head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}"})
        with connect(server) as sock:
            sock.sendall(first + second[:20])
            assert read_one(sock).status == 200
            sock.sendall(second[20:])
            assert read_one(sock).status == 200


    def test_the_end_of_a_large_body_does_not_count_toward_the_next_head(self, server: MockServer) -> None:
        # The server reads a body in pieces of up to 256 KiB, so the read that ends this one is far larger than
        # the head cap; once its answer is read, the client sends its next request on the same connection.
        # Counting that read as head made the next request a 431.
        update = tokenization_update(1_000_000)
        body = update.body()
        first = head("PUT", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", "Content-Type": update.content_type,
                                       "Content-Length": str(len(body))})
        with connect(server) as sock:
            sock.sendall(first + body)
            assert read_one(sock).status == 200
            sock.sendall(head("GET", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}"}))
            assert read_one(sock).status == 200


class TestLargeBodiesInFlight:
    @pytest.fixture
    def server(self) -> Iterator[MockServer]:
        with MockServer(http=True, settings={"clients.max_large_bodies": 1, "clients.large_body_wait": 0.3}) as mock:
            yield mock

    def test_beyond_the_limit_a_request_waits_then_gets_503_with_retry_after(self, server: MockServer) -> None:
        update = tokenization_update(2 * MiB)
        body = update.body()
        framing = {"Authorization": f"Bearer {TKN_BEARER}", "Content-Type": update.content_type,
                   "Content-Length": str(len(body))}
        with connect(server) as holder:
            holder.sendall(head("PUT", TKN_PATH, framing) + body[:MiB])  # holds the only slot, for now
            second = connect(server)
            # Only the start of its body: the server answers without reading on, and a close with unread bytes
            # would reset the connection before the answer is read.
            second.sendall(head("PUT", TKN_PATH, {**framing, "Connection": "close"}) + body[:16384])
            refused = read_answer(second)
            second.close()
            holder.sendall(body[MiB:])  # the first upload completes and frees its slot
            assert read_one(holder).status == 200

        assert refused.status == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["status"] == 503
        assert "large requests" in refused.json()["message"]
        with connect(server) as third:  # the slot is free again
            third.sendall(head("PUT", TKN_PATH, {**framing, "Connection": "close"}) + body)
            assert read_answer(third).status == 200


def reset_peak_rss() -> None:
    """Linux: VmHWM starts again from the current RSS, so earlier tests' peaks cannot hide this one's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        pytest.skip(f"cannot reset this process's peak RSS: {exc}")


def peak_rss_bytes() -> int:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert match, "no VmHWM in /proc/self/status"
    return int(match.group(1)) * 1024


def test_ten_concurrent_24_mib_uploads_take_bounded_memory() -> None:
    """The issue's case: ten 24 MiB uploads at once. Unbounded, peak RSS grew by about 400 MiB here (each
    upload is held and parsed in memory); one slot holds it to what one upload takes (about 75 MiB). Every
    upload completes: the others wait their turn."""
    update = tokenization_update(8 * MiB, files=3)  # each file under the 10 MiB cap, 24 MiB in all
    body = update.body()
    settings = {"clients.max_large_bodies": 1, "clients.large_body_wait": 60}
    with MockServer(http=True, settings=settings) as mock:

        def upload(_: int) -> int:
            with connect(mock) as sock:
                sock.sendall(head("PUT", TKN_PATH, {"Authorization": f"Bearer {TKN_BEARER}", "Connection": "close",
                                                    "Content-Type": update.content_type,
                                                    "Content-Length": str(len(body))}))
                sock.sendall(body)  # the one copy every thread shares: the client adds nothing per upload
                return read_answer(sock).status

        reset_peak_rss()
        before = peak_rss_bytes()
        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(upload, range(10)))
        grown = peak_rss_bytes() - before

    assert statuses == [200] * 10
    assert grown < 150 * MiB, f"peak RSS grew by {grown / MiB:.0f} MiB"
