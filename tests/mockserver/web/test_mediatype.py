"""A Content-Type's media type in any case is validated as in lower case (HTTP media types are case-insensitive)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mockserver.web import MockApp
from tests.mockserver.support import IMX_ALPHA, IMX_REFRESH, TKN_BEARER, TKN_PATH, ApiClient

pytestmark = pytest.mark.anyio

EMPTY_FORM = b"--b--\r\n"


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path on", "fast path off"])
async def test_a_form_in_any_case_is_checked_like_one_in_lower_case(make_app: Callable[..., MockApp],
                                                                    fast_path: bool) -> None:
    app = make_app({"fast_path": fast_path})
    answers = []
    async with ApiClient(app, validate=False) as client:
        for content_type in ("multipart/form-data; boundary=b", "Multipart/Form-Data; boundary=b"):
            response = await client.put(TKN_PATH, content=EMPTY_FORM, headers={
                "authorization": f"Bearer {TKN_BEARER}", "content-type": content_type})
            answers.append((response.status_code, response.json()["message"]))
    assert answers[0][0] == 400
    assert "name" in answers[0][1]
    assert answers[1] == answers[0]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path on", "fast path off"])
async def test_json_in_any_case_is_checked_like_json_in_lower_case(make_app: Callable[..., MockApp],
                                                                   fast_path: bool) -> None:
    app = make_app({"fast_path": fast_path})
    answers = []
    async with ApiClient(app, validate=False) as client:
        for content_type in ("application/json", "Application/JSON; charset=utf-8"):
            response = await client.post(IMX_REFRESH, content=b'{"nft_metadata": [{"token_id": "x"}]}', headers={
                "x-immutable-api-key": IMX_ALPHA, "content-type": content_type})
            answers.append((response.status_code, response.json()["message"]))
    assert answers[0] == (400, "Invalid request body: 'name' is a required property (at nft_metadata.0.name).")
    assert answers[1] == answers[0]
