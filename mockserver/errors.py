"""Every error the mock raises derives from `MockServerError`; the web layer translates them."""

from __future__ import annotations

from collections.abc import Mapping


class MockServerError(Exception):
    """Base class of all errors raised by the mock server package."""


class ConfigError(MockServerError):
    """The settings (file, environment or flags) are not usable."""


class FixturesError(MockServerError):
    """A fixtures file cannot be loaded."""


class StoreUnavailable(MockServerError):
    """The store (Redis) or a shared rate-limit storage does not answer; each API says 503 until it does."""


class ApiError(MockServerError):
    """A request the API rejects; each API renders it in its own error shape.

    `field` names the input at fault (a form field, a JSON path like `nft_metadata.3.token_id`, a
    header or a path parameter), so clients can point at it.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, message={self.message!r}, field={self.field!r})"
