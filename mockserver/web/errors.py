"""Every error leaves the server in the shape of the API it concerns, with a message that says what is wrong."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope, Send

from mockserver.apis import ApiInfo, api_for_path
from mockserver.errors import ApiError, StoreUnavailable
from mockserver.web.validation import check_path_value, path_values

logger = logging.getLogger("mockserver")
# Seconds a client is asked to wait while the store does not answer: a restarted Redis is back within that.
STORE_RETRY_AFTER = 1


def error_response(path: str, error: ApiError) -> ConnexionResponse:
    """The response for `error` on a request to `path`, in that API's shape (problem+json outside any API)."""
    api = api_for_path(path)
    if api is None:
        body: dict[str, Any] = {"status": error.status, "title": error.message}
        media_type = "application/problem+json"
    else:
        body = api.render_error(error)
        media_type = "application/json"
    return ConnexionResponse(
        status_code=error.status, body=json.dumps(body), content_type=media_type, headers=error.headers
    )


async def send_response(send: Send, response: ConnexionResponse, *, vary: bool = True) -> None:
    """Send a response built outside Connexion's apps (by the fast path, or before any app is reached).

    `vary`: add the `Vary: Origin` the CORS middleware adds to every answer; False when the answer goes through
    that middleware itself."""
    body = response.body.encode() if isinstance(response.body, str) else response.body
    raw = [(name.lower().encode("latin-1"), str(value).encode("latin-1"))  # Content-Type among them
           for name, value in (response.headers or {}).items()]
    raw.append((b"content-length", str(len(body)).encode()))
    if vary:
        raw.append((b"vary", b"Origin"))
    await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def store_unavailable(exc: StoreUnavailable) -> ApiError:
    """The 503 for a request the store could not serve; the cause goes to the log, not to the client."""
    logger.warning("store unavailable: %s", exc)
    return ApiError(503, "The mock's store is unavailable right now; retry shortly.",
                    headers={"Retry-After": str(STORE_RETRY_AFTER)})


def method_not_allowed(method: str, allow: str, headers: Mapping[str, str] | None = None) -> ApiError:
    """405 for `method`, naming the methods the path takes (`allow`, also sent as `Allow`)."""
    return ApiError(405, f"Method {method} is not allowed here; allowed: {allow}.",
                    headers={**(headers or {}), "Allow": allow})


def _translate(request: ConnexionRequest, exc: Exception) -> ApiError:
    api = api_for_path(request.url.path)
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ProblemException):
        return _from_problem(api, exc, malformed_header=_has_header(request, api))
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            malformed = _malformed_path(request.scope["path"])
            return malformed or ApiError(404, _not_found_message(api, request))
        if exc.status_code == 405:
            headers = exc.headers or {}
            return method_not_allowed(request.method, headers.get("Allow", ""), headers)
        return ApiError(exc.status_code, str(exc.detail), headers=exc.headers or {})
    if isinstance(exc, ValueError):
        # Routing converts integer path segments with int(), which refuses thousands of digits.
        oversized = _oversized_integer(request.scope["path"])
        if oversized is not None:
            return oversized
    return unexpected_error(request.scope, exc)


def unexpected_error(scope: Scope, exc: Exception) -> ApiError:
    """A 500 for an exception nothing expected (logged with its traceback, never shown to the client), or the
    503 of a store that does not answer."""
    if isinstance(exc, StoreUnavailable):
        return store_unavailable(exc)
    logger.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
    return ApiError(500, "Internal server error: the mock failed to handle this request; please report it.")


def _has_header(request: ConnexionRequest, api: ApiInfo | None) -> bool:
    """Whether the request carries the API's credential header at all (then a 401 is about its form)."""
    return api is not None and api.malformed_credentials is not None and "authorization" in request.headers


def _from_problem(api: ApiInfo | None, exc: ProblemException, *, malformed_header: bool = False) -> ApiError:
    status = exc.status or 500
    detail = str(exc.detail or exc.title or "")
    if status == 401 and api is not None and api.malformed_credentials is not None and malformed_header:
        return ApiError(401, api.malformed_credentials, field="Authorization")
    if status == 401 and api is not None and "No authorization token provided" in detail:
        return ApiError(401, api.missing_credentials)
    if status == 415:
        status = api.media_type_status if api is not None else 415
        return ApiError(status, f"Unsupported content type: {detail}", field="Content-Type")
    return ApiError(status, detail or f"Request failed with status {status}.", headers=exc.headers or {})


def _malformed_path(path: str) -> ApiError | None:
    """A path of the API that routed nowhere only because a parameter is malformed (`abc` for an integer)."""
    errors = (check_path_value(name, value, schema) for name, value, schema in path_values(path))
    return next((error for error in errors if error is not None), None)


def _oversized_integer(path: str) -> ApiError | None:
    """The 400 for an integer path segment too long for Python to convert, if the path has one."""
    for name, value, schema in path_values(path):
        if schema.get("type") == "integer" and len(value) > sys.get_int_max_str_digits() > 0:
            return check_path_value(name, value, schema)
    return None


def _not_found_message(api: ApiInfo | None, request: ConnexionRequest) -> str:
    if api is None:
        return f"Nothing is served at {request.url.path}."
    return (f"No {api.title} operation matches {request.method} {request.url.path}: check the path, and that "
            "numeric path parameters are non-negative integers.")


async def handle_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion error handler for every exception type and HTTP error status the app raises."""
    return error_response(request.url.path, _translate(request, exc))
