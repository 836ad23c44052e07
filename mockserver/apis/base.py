"""What the core knows of an API: its spec, its paths and its own error shape."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from mockserver.errors import ApiError

ErrorRenderer = Callable[[ApiError], dict[str, Any]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiInfo:
    """What distinguishes one API: its name, spec file, path prefix and how it words errors."""

    name: str
    title: str
    spec_file: str
    prefix: str
    render_error: ErrorRenderer
    # The request header carrying the client's credential (keys per-credential operation limits).
    credential_header: str
    missing_credentials: str
    # For an API whose credential goes in `Authorization`: the 401 message when that header is malformed.
    malformed_credentials: str | None = None
    # A body larger than this is an error of this status, answered before the body is read whole.
    oversize_status: int
    # A body whose Content-Type the operation does not take is an error of this status.
    media_type_status: int = 415
