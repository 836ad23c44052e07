"""A throwaway `redis-server` for the tests of the Redis store: on a free loopback port, no persistence."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import tempfile
import time
from typing import IO

REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT = 10.0


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass
class RedisServer:
    """A running redis-server this test session started (and stops)."""

    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - redis-server exits on SIGTERM at once
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()

    def restart(self) -> RedisServer:
        """Stop this server and start an empty one on the same port, as a restart without persistence does."""
        self.stop()
        return start_redis_server(port=self.port)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def start_redis_server(attempts: int = 3, *, port: int | None = None) -> RedisServer:
    """Start redis-server (on `port`, else a free one) and return once it answers PING; another free port if
    the one chosen was taken meanwhile."""
    for attempt in range(attempts):
        try:
            return _start(port)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _start(port: int | None = None) -> RedisServer:
    import redis

    assert REDIS_SERVER is not None
    port = free_port() if port is None else port
    log = tempfile.TemporaryFile(prefix="redis-server-")  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = RedisServer(port, process, log)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                output = server.output()
                server.log.close()
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{output}")
            try:
                if client.ping():
                    return server
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"redis-server did not answer on port {port} within {START_TIMEOUT} s") from None
                time.sleep(0.02)
    finally:
        client.close()
