"""Every error the conformance package raises on purpose derives from `ConformanceError`.

The CLI turns any of them into exit code 2 with the message alone: they mean the suite could not run as asked
(bad usage, an unusable target file, an unreachable server), never that the server under test misbehaved.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class of all errors raised by the conformance package."""


class TargetError(ConformanceError):
    """The target file (credentials and known resources) cannot be read or is not usable."""


class ServerUnreachableError(ConformanceError):
    """The server under test cannot be reached at the base URL."""


class SpecNotFoundError(ConformanceError):
    """The OpenAPI documents the suite holds servers to are not where they should be."""
