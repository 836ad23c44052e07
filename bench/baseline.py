"""The stack's own limit: a bare Starlette app on uvicorn that parses the JSON body and answers 202.

`bench/run --prism` loads the refreshes against it in the same run as the mock, so the mock's share of what
Starlette, uvicorn and `json` alone can do is measured on the same machine at the same time:

    python -m uvicorn --app-dir bench baseline:app --port 8081
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def accept(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"items": len(body.get("nft_metadata", ()))}, status_code=202)


app = Starlette(routes=[Route("/{path:path}", accept, methods=["POST"])])
