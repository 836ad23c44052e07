"""ImmutableService without the web layer: Go-format reset times, checks before the quota is spent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mockserver.apis.immutable.service import go_time, make_error_renderer
from mockserver.errors import ApiError
from mockserver.services import Services
from tests.mockserver.support import IMX_ALPHA, IMX_CHAIN, IMX_COLLECTION, immutable_service, refresh_body


@pytest.fixture
def services(app_for: Any) -> Services:
    result: Services = app_for().services
    return result


class TestGoTime:
    """`imx-refresh-limit-reset` reads like Go's `time.Time.String()` in UTC."""

    @pytest.mark.parametrize(
        ("moment", "text"),
        [
            (datetime(2024, 4, 16, 11, 6, 7, 401553, tzinfo=UTC), "2024-04-16 11:06:07.401553 +0000 UTC"),
            (datetime(2024, 4, 16, 11, 6, 7, 400000, tzinfo=UTC), "2024-04-16 11:06:07.4 +0000 UTC"),
            (datetime(2024, 4, 16, 11, 6, 7, tzinfo=UTC), "2024-04-16 11:06:07 +0000 UTC"),
        ],
    )
    def test_format(self, moment: datetime, text: str) -> None:
        assert go_time(moment.timestamp()) == text


class TestRefreshService:
    """Validation and permission failures spend no quota and queue nothing."""

    @pytest.mark.parametrize(
        ("body", "status"),
        [(refresh_body("5", "5"), 400), (refresh_body(str(2**256)), 400), (refresh_body("1\n"), 400)],
    )
    def test_rejected_before_the_quota(self, services: Services, body: dict[str, Any], status: int) -> None:
        key = immutable_service(services).authenticate(IMX_ALPHA)

        with pytest.raises(ApiError) as caught:
            immutable_service(services).refresh(key, IMX_CHAIN, IMX_COLLECTION, body)

        assert caught.value.status == status
        limit = services.settings.immutable.rate_limit.limit
        assert immutable_service(services).limiter.peek("project-alpha").remaining == limit
        assert immutable_service(services).records.pending_refreshes() == 0

    def test_without_delay_a_refresh_is_applied_at_once(self, services: Services) -> None:
        key = immutable_service(services).authenticate(IMX_ALPHA)

        accepted = immutable_service(services).refresh(key, IMX_CHAIN, IMX_COLLECTION,
                                                       refresh_body("1", "2", name="Now"))

        assert accepted.headers["imx-remaining-refreshes"] == "999"
        # Nothing waits in the queue: a write-only load (no reads) must not pile refreshes up in memory.
        assert immutable_service(services).records.pending_refreshes() == 0
        nft = immutable_service(services).records.nft(IMX_CHAIN, IMX_COLLECTION, 2, now=services.clock.time())
        assert nft["name"] == "Now"  # type: ignore[index]

    @pytest.mark.parametrize("extra", [{}, {"background_color": "red"}], ids=["schema-keys", "extra-key"])
    def test_a_refresh_stores_only_the_metadata_keys(self, services: Services,
                                                     extra: dict[str, Any]) -> None:
        key = immutable_service(services).authenticate(IMX_ALPHA)
        item = {"attributes": [{"trait_type": "a", "value": 1, "display_type": None}], "name": "First",
                **extra, "token_id": "3", "description": None, "image": "i", "external_url": None,
                "animation_url": None, "youtube_url": None}

        immutable_service(services).refresh(key, IMX_CHAIN, IMX_COLLECTION, {"nft_metadata": [item]})

        nft = immutable_service(services).records.nft(IMX_CHAIN, IMX_COLLECTION, 3, now=services.clock.time())
        assert nft is not None
        assert "background_color" not in nft
        assert nft["token_id"] == "3"
        assert (nft["name"], nft["image"], nft["attributes"]) == ("First", "i", [{"trait_type": "a", "value": 1}])

    def test_with_delay_a_refresh_waits_in_the_queue(self, make_app: Any) -> None:
        services: Services = make_app({"immutable.refresh_delay": 30}).services
        key = immutable_service(services).authenticate(IMX_ALPHA)

        immutable_service(services).refresh(key, IMX_CHAIN, IMX_COLLECTION, refresh_body("1", "2"))
        assert immutable_service(services).records.pending_refreshes() == 2
        services.clock.advance(30)  # type: ignore[attr-defined]
        immutable_service(services).records.apply_due(services.clock.time())
        assert immutable_service(services).records.pending_refreshes() == 0


class TestErrorRenderer:
    """Errors carry the code of their status, a fresh trace id and, on 400, the field."""

    def test_render(self) -> None:
        ids = iter(["t1", "t2"])
        render = make_error_renderer(lambda: next(ids))

        bad = render(ApiError(400, "bad", field="nft_metadata.0.token_id"))
        missing = render(ApiError(404, "gone"))

        assert bad["code"] == "VALIDATION_ERROR"
        assert bad["details"] == {"field": "nft_metadata.0.token_id"}
        assert (missing["code"], missing["details"], missing["trace_id"]) == ("RESOURCE_NOT_FOUND", None, "t2")
