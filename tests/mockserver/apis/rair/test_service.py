"""RairService without the web layer: checks run before anything is stored."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.apis.rair.service import RairService, render_error
from mockserver.errors import ApiError
from mockserver.files import Upload
from mockserver.services import Services
from tests.mockserver import media
from tests.mockserver.support import RAIR_COLLECTOR, RAIR_CONTRACT, RAIR_NETWORK, RAIR_OWNER, rair_service

KEY = (RAIR_NETWORK, RAIR_CONTRACT, 0, 1)


def url(key: str) -> str:
    return f"mem://{key}"


@pytest.fixture
def services(app_for: Any) -> Services:
    result: Services = app_for().services
    return result


class TestRairService:
    """The service applies an update only once every check has passed."""

    def test_update_returns_the_stored_token(self, services: Services) -> None:
        service: RairService = rair_service(services)
        upload = Upload(field="files", filename="a.png", declared_type="image/png", data=media.png())

        token = service.update_token(service.authenticate(RAIR_OWNER), *KEY, {"image": "a.png"}, [upload], url)

        assert token["metadata"]["image"].startswith("mem://")
        assert rair_service(services).records.token(KEY) == token
        assert services.store.blobs.get(token["metadata"]["image"].removeprefix("mem://")) is not None

    @pytest.mark.parametrize(
        ("form", "uploads", "status"),
        [
            ({"image": "a.png"}, [Upload(field="files", filename="a.png", declared_type="text/plain",
                                         data=media.png())], 415),
            ({"name": "x"}, [Upload(field="files", filename=str(n), declared_type="image/png", data=media.png(n))
                             for n in range(1, 4)], 400),
            ({"image": "b.png", "name": "x"}, [Upload(field="files", filename="a.png", declared_type="image/png",
                                                      data=media.png())], 400),
            ({}, [], 400),
        ],
    )
    def test_failed_check_stores_nothing(self, services: Services, form: dict[str, str], uploads: list[Upload],
                                         status: int) -> None:
        service = rair_service(services)
        before, blobs = rair_service(services).records.token(KEY), len(services.store.blobs)

        with pytest.raises(ApiError) as caught:
            service.update_token(service.authenticate(RAIR_OWNER), *KEY, form, uploads, url)

        assert caught.value.status == status
        assert rair_service(services).records.token(KEY) == before
        assert len(services.store.blobs) == blobs

    def test_non_owner(self, services: Services) -> None:
        service = rair_service(services)
        with pytest.raises(ApiError) as caught:
            service.update_token(service.authenticate(RAIR_COLLECTOR), *KEY, {"name": "x"}, [], url)

        assert (caught.value.status, caught.value.message) == (403, "You have no permissions for updating token 1.")

    def test_unknown_credential(self, services: Services) -> None:
        with pytest.raises(ApiError) as caught:
            rair_service(services).authenticate("nobody")

        assert caught.value.status == 401

    def test_error_shape(self) -> None:
        assert render_error(ApiError(404, "gone")) == {"success": False, "error": True, "message": "gone"}
