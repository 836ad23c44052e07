"""Every error leaves the server in the shape of the API it concerns, with a message that says what is wrong."""

from __future__ import annotations

import json
import logging
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mockserver.apis import ApiInfo, api_for_path
from mockserver.errors import ApiError

logger = logging.getLogger("mockserver")


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


def _translate(request: ConnexionRequest, exc: Exception) -> ApiError:
    api = api_for_path(request.url.path)
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ProblemException):
        return _from_problem(api, exc)
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return ApiError(404, _not_found_message(api, request))
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return ApiError(405, f"Method {request.method} is not allowed here; allowed: {allow}.",
                            headers=exc.headers or {})
        return ApiError(exc.status_code, str(exc.detail), headers=exc.headers or {})
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return ApiError(500, "Internal server error: the mock failed to handle this request; please report it.")


def _from_problem(api: ApiInfo | None, exc: ProblemException) -> ApiError:
    status = exc.status or 500
    detail = str(exc.detail or exc.title or "")
    if status == 401 and api is not None and "No authorization token provided" in detail:
        return ApiError(401, api.missing_credentials)
    if status == 415:
        return ApiError(415, f"Unsupported content type: {detail}")
    return ApiError(status, detail or f"Request failed with status {status}.", headers=exc.headers or {})


def _not_found_message(api: ApiInfo | None, request: ConnexionRequest) -> str:
    if api is None:
        return f"Nothing is served at {request.url.path}."
    return (f"No {api.title} operation matches {request.method} {request.url.path}: check the path, and that "
            "numeric path parameters are non-negative integers.")


async def handle_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion error handler for every exception type and HTTP error status the app raises."""
    return error_response(request.url.path, _translate(request, exc))
