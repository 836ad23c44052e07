"""Request heads capped in size, count and time before the server holds them: 431 (too large) or 408 (too
slow, after `clients.header_timeout`) in the API's error shape.

uvicorn's httptools protocol has no limit on the request line and headers (a 64 MB header and a million headers
were accepted), and h11's `h11_max_incomplete_event_size` caps only the size, with a 400. This subclass of
uvicorn's `HttpToolsProtocol` counts the head as it arrives: the bytes received before the head is complete (so
one endless header is cut off after the cap plus two reads, however httptools buffers it), and the exact size and
number of the headers as the parser reports them. It relies on the protocol's parser callbacks (`on_url`,
`on_header`, `on_headers_complete`, `on_message_complete`) and on `send_400_response` being where a parser error
ends, which is why pyproject.toml pins uvicorn's minor version and tests/mockserver/web/test_slow_clients.py
checks the 431s and 408s over a real socket. The head timer uses the protocol's `loop` and `transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.errors import ApiError
from mockserver.settings import ClientLimitSettings
from mockserver.web.errors import error_response

# What a header line adds to its name and value: ": " and CRLF.
_LINE_OVERHEAD = 4


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing; `send_400_response` then answers 431 instead."""


class HeadLimitProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over `max_head_bytes` or `max_headers` with 431."""

    max_head_bytes = ClientLimitSettings().max_header_bytes
    max_headers = ClientLimitSettings().max_headers
    header_timeout = ClientLimitSettings().header_timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Armed while a head is awaited: uvicorn bounds only the idle time after a response (keep-alive), so a
        # connection that never sends, or stops half way through its head, was held for ever.
        self._head_timer: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes_received = 0  # raw bytes fed while the head was incomplete
        self._head_began_in_this_read = False
        self._head_size = 0  # request target plus header lines, as parsed
        self._header_count = 0
        self._refusal: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # answered and closing: the rest is not read
        if self._reading_head and self._head_bytes_received > self.max_head_bytes:
            # Only whole reads of head were counted, so this head is over the cap whatever follows.
            self._refuse(f"The request line and headers exceed {self.max_head_bytes} bytes.")
            return
        self._head_began_in_this_read = False
        head_before = self._reading_head
        super().data_received(data)
        if head_before and self._reading_head and not self._head_began_in_this_read:
            # Only a read that was head from start to end counts. One in which a head began may hold the end of
            # the previous request, and one in which a body ended holds that body's last bytes: neither is
            # counted, so the raw count errs low by at most one read (the parsed size below is exact).
            self._head_bytes_received += len(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()  # the next request on a kept-alive connection: its head has begun
        self._reading_head = True
        self._head_began_in_this_read = True
        self._head_bytes_received = self._head_size = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_headers:
            self._refusal = f"The request has more than {self.max_headers} headers."
            raise _HeadTooLarge
        self._count(len(name) + len(value) + _LINE_OVERHEAD)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._reading_head = False
        self._head_bytes_received = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # a kept-alive connection's next bytes are the next head
        self._head_bytes_received = 0

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:  # the parser stopped because a callback raised _HeadTooLarge
            self._respond_431(self._refusal)
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.max_head_bytes:
            self._refusal = f"The request line and headers exceed {self.max_head_bytes} bytes."
            raise _HeadTooLarge

    def _refuse(self, reason: str) -> None:
        self._refusal = reason
        self._respond_431(reason)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if not getattr(self, "url", b""):  # not even a request line: nothing to answer
            self.transport.close()
            return
        cycle = self.cycle  # the request before this pipelined head, if it is still being answered
        if cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False  # its response goes out whole, then the connection closes
            return
        reason = f"The request line and headers did not arrive within {self.header_timeout:g} s."
        self.logger.warning("refused a request head: %s", reason)
        self._respond(408, reason)

    def _respond_431(self, reason: str) -> None:
        self.logger.warning("refused a request head: %s", reason)
        self._respond(431, reason)

    def _respond(self, status: int, reason: str) -> None:
        """The API's error shape when the path is known by now, problem+json otherwise; then close."""
        path, url = "", getattr(self, "url", b"")  # set once a request begins
        if url:
            with contextlib.suppress(httptools.HttpParserInvalidURLError):
                path = httptools.parse_url(url).path.decode("ascii", "replace")
        response = error_response(path, ApiError(status, reason))
        body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
        phrase = http.HTTPStatus(status).phrase
        head = (f"HTTP/1.1 {status} {phrase}\r\ncontent-type: {response.content_type}\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
        self.transport.write(head.encode("latin-1") + body)
        self.transport.close()


def head_limit_protocol(limits: ClientLimitSettings) -> type[HeadLimitProtocol]:
    """The protocol class for uvicorn's `http` option, with these limits."""
    return type("ConfiguredHeadLimitProtocol", (HeadLimitProtocol,),
                {"max_head_bytes": limits.max_header_bytes, "max_headers": limits.max_headers,
                 "header_timeout": limits.header_timeout})

