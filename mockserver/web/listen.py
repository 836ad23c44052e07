"""Bind the listening socket before anything is announced, then hand it to uvicorn.

`uvicorn.run` binds late: the CLI had already printed its URLs (and uvicorn "Application startup complete")
when a taken port ended the run with `[Errno 98] address already in use`. Binding here first makes a taken port
one clear error before any output, and a banner a promise that the port answers (connections wait in the
backlog until uvicorn accepts them). `Server.run(sockets=...)` and `Multiprocess(config, sockets=...)` are the
ways uvicorn's own `run` serves a socket it bound (uvicorn 0.54, pinned in pyproject.toml).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from mockserver.errors import MockServerError


class ListenError(MockServerError):
    """The address cannot be listened on (taken, not this host's, not allowed)."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, as uvicorn binds one (IPv6 when the host has a colon)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT does not block a restart
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(f"port {port} is already in use on {host}: stop what listens there or pick "
                              "another with --port") from exc
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)  # workers are processes of their own
    return sock


def run_server(app: Any, *, host: str, port: int, workers: int, announce: Callable[[int], None],
               **options: Any) -> bool:
    """Bind, `announce(port)`, then serve until stopped. False when the server did not start (uvicorn logged why).

    `options` are `uvicorn.Config`'s; `announce` gets the bound port (the real one for `--port 0`).
    """
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, host=host, port=bound, workers=workers, **options)
    server = uvicorn.Server(config)
    announce(bound)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return True
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return server.started
