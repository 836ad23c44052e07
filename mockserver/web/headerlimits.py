"""Request heads capped in size and count before the server holds them: 431 in the API's error shape.

uvicorn's httptools protocol has no limit on the request line and headers (a 64 MB header and a million headers
were accepted), and h11's `h11_max_incomplete_event_size` caps only the size, with a 400. This subclass of
uvicorn's `HttpToolsProtocol` counts the head as it arrives: the bytes received before the head is complete (so
one endless header is cut off after the cap plus two reads, however httptools buffers it), and the exact size and
number of the headers as the parser reports them. It relies on the protocol's parser callbacks (`on_url`,
`on_header`, `on_headers_complete`, `on_message_complete`) and on `send_400_response` being where a parser error
ends, which is why pyproject.toml pins uvicorn's minor version and tests/mockserver/web/test_slow_clients.py
checks the 431s over a real socket.
"""

from __future__ import annotations

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes_received = 0  # raw bytes fed while the head was incomplete
        self._head_began_in_this_read = False
        self._head_size = 0  # request target plus header lines, as parsed
        self._header_count = 0
        self._refusal: str | None = None

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # answered and closing: the rest is not read
        if self._reading_head and self._head_bytes_received > self.max_head_bytes:
            # Only whole reads of head were counted, so this head is over the cap whatever follows.
            self._refuse(f"The request line and headers exceed {self.max_head_bytes} bytes.")
            return
        self._head_began_in_this_read = False
        super().data_received(data)
        if self._reading_head and not self._head_began_in_this_read:
            # A read in which a head began may hold the end of the previous request too: it is not counted,
            # so the raw count errs low by at most one read (the parsed size below is exact).
            self._head_bytes_received += len(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
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

    def _respond_431(self, reason: str) -> None:
        """The API's error shape when the path is known by now, problem+json otherwise; then close."""
        self.logger.warning("refused a request head: %s", reason)
        path, url = "", getattr(self, "url", b"")  # set once a request begins
        if url:
            with contextlib.suppress(httptools.HttpParserInvalidURLError):
                path = httptools.parse_url(url).path.decode("ascii", "replace")
        response = error_response(path, ApiError(431, reason))
        body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
        phrase = http.HTTPStatus(431).phrase
        head = (f"HTTP/1.1 431 {phrase}\r\ncontent-type: {response.content_type}\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
        self.transport.write(head.encode("latin-1") + body)
        self.transport.close()


def head_limit_protocol(limits: ClientLimitSettings) -> type[HeadLimitProtocol]:
    """The protocol class for uvicorn's `http` option, with these limits."""
    return type("ConfiguredHeadLimitProtocol", (HeadLimitProtocol,),
                {"max_head_bytes": limits.max_header_bytes, "max_headers": limits.max_headers})

