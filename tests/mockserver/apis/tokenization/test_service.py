"""TokenizationService without the web layer: numbers must be finite, files typed by content."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mockserver.apis.tokenization.service import render_error
from mockserver.errors import ApiError
from mockserver.files import Upload
from mockserver.services import Services
from tests.mockserver import media
from tests.mockserver.support import TKN_TOKEN, tokenization_service

VALID = {"name": "n", "description": "d"}


@pytest.fixture
def services(app_for: Any) -> Services:
    result: Services = app_for().services
    return result


class TestTokenizationService:
    """Checks run before any change; a rejected update leaves token and files as they were."""

    @pytest.mark.parametrize(("field", "value"), [("total_value", math.inf), ("total_value", math.nan),
                                                  ("salable_percentage", math.nan),
                                                  ("salable_percentage", -math.inf)])
    def test_non_finite_numbers(self, services: Services, field: str, value: float) -> None:
        before = tokenization_service(services).records.token(TKN_TOKEN)

        with pytest.raises(ApiError) as caught:
            tokenization_service(services).update_token(TKN_TOKEN, {**VALID, field: value}, [])

        assert (caught.value.status, caught.value.field) == (400, field)
        assert "finite" in caught.value.message
        assert tokenization_service(services).records.token(TKN_TOKEN) == before

    def test_an_unknown_token_is_404_before_any_400(self, services: Services) -> None:
        with pytest.raises(ApiError) as caught:
            tokenization_service(services).update_token("0x" + "9" * 40, {**VALID, "total_value": math.inf}, [])

        assert (caught.value.status, caught.value.field) == (404, "token_id")

    def test_price_follows_total_value(self, services: Services) -> None:
        tokenization_service(services).update_token(TKN_TOKEN, {**VALID, "total_value": 2500.0}, [])

        token = tokenization_service(services).records.token(TKN_TOKEN)
        assert token is not None
        assert token["value"]["total_value"]["amount"] == 2500.0
        assert token["value"]["token_price"]["amount"] == 6.25  # over the fixture's supply of 400

    @pytest.mark.parametrize(
        ("upload", "words"),
        [
            (Upload(field="images", filename="a.png", declared_type="text/plain", data=media.png()),
             ("declared as text/plain", "image/png")),
            (Upload(field="images", filename="a.txt", declared_type="image/png", data=media.text()),
             ("declared as image/png", "no recognised type")),
            (Upload(field="documents", filename="a.png", declared_type=None, data=media.png()), ("image/png", "PDF")),
        ],
    )
    def test_media_type_messages(self, services: Services, upload: Upload, words: tuple[str, ...]) -> None:
        blobs = len(services.store.blobs)

        with pytest.raises(ApiError) as caught:
            tokenization_service(services).update_token(TKN_TOKEN, VALID, [upload])

        assert caught.value.status == 415
        for word in words:
            assert word in caught.value.message
        assert len(services.store.blobs) == blobs

    def test_error_shape(self) -> None:
        assert render_error(ApiError(413, "big", field="images")) == {"status": 413, "message": "big",
                                                                       "field": "images"}
