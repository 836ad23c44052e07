"""Prefer headers, injected faults and extra operation limits."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.clock import ManualClock
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    assert_error,
    imx_headers,
    rair_headers,
    rair_service,
    refresh_body,
    tkn_headers,
)

pytestmark = pytest.mark.anyio


class TestPrefer:
    """`Prefer: code=NNN` forces any documented status, with a body valid for it (checked against the spec)."""

    @pytest.mark.parametrize(("path", "method", "headers", "status"), [
        (RAIR_TOKEN_PATH, "GET", rair_headers(), 404),
        (RAIR_TOKEN_PATH, "POST", rair_headers(), 415),
        (f"{IMX_BASE}/1", "GET", {}, 500),
        (IMX_REFRESH, "POST", imx_headers(), 403),
        (TKN_PATH, "PUT", tkn_headers(), 413),
        (TKN_PATH, "GET", tkn_headers(), 401),
    ])
    async def test_forces_a_documented_error_in_the_api_shape(
        self, client: ApiClient, path: str, method: str, headers: dict[str, str], status: int
    ) -> None:
        response = await client.request(method, path, headers={**headers, "Prefer": f"code={status}"})
        assert_error(response, status, "prefer")
        assert response.headers["preference-applied"] == f"code={status}"

    async def test_forced_429_carries_immutable_rate_headers(self, client: ApiClient) -> None:
        response = await client.post(IMX_REFRESH, headers={**imx_headers(), "Prefer": "code=429"},
                                     json=refresh_body("1"))
        assert_error(response, 429)
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["imx-refreshes-limit"] == "1000"

    async def test_success_code_runs_the_operation(self, client: ApiClient) -> None:
        response = await client.post(IMX_REFRESH, headers={**imx_headers(), "Prefer": "code=202"},
                                     json=refresh_body("1", name="Preferred"))
        assert response.status_code == 202
        assert (await client.get(f"{IMX_BASE}/1")).json()["result"]["name"] == "Preferred"

    async def test_undocumented_code_is_refused_naming_the_documented_ones(self, client: ApiClient) -> None:
        response = await client.get(f"{IMX_BASE}/1", headers={"Prefer": "code=418"})
        body = assert_error(response, 400, "418", "documented", "404")
        assert body["details"] == {"field": "Prefer"}

    async def test_named_example_is_answered_as_written_in_the_spec(self, client: ApiClient) -> None:
        response = await client.get(TKN_PATH, headers={**tkn_headers(), "Prefer": "example=unlisted-token"})
        assert response.status_code == 200
        assert response.json()["name"] == "Harbour Warehouse"  # the example, not the token at this path
        assert response.headers["preference-applied"] == "example=unlisted-token"

    async def test_unknown_example_name_is_refused(self, client: ApiClient) -> None:
        response = await client.get(TKN_PATH, headers={**tkn_headers(), "Prefer": "example=nope"})
        assert_error(response, 400, "example=nope", "listed-token", "unlisted-token")

    async def test_forced_error_stores_nothing(self, client: ApiClient, app: Any) -> None:
        before = rair_service(app.services).records.tokens()
        response = await client.post(RAIR_TOKEN_PATH, headers={**rair_headers(), "Prefer": "code=400"},
                                     files={"name": (None, "changed")})
        assert_error(response, 400)
        assert rair_service(app.services).records.tokens() == before


class Sleeps:
    """A sleep that records how long it was asked to wait, and waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class TestFaults:
    """Latency and error injection, per operation or for every operation, changed at run time."""

    @pytest.fixture
    def sleeps(self) -> Sleeps:
        return Sleeps()

    @pytest.fixture
    async def faulty(self, sleeps: Sleeps, clock: ManualClock, default_fixtures: Any) -> Any:
        from mockserver.settings import load_settings
        from mockserver.web import create_app

        app = create_app(load_settings(environ={}, overrides={"seed": 7}), clock=clock,
                         fixtures=default_fixtures, sleep=sleeps)
        async with ApiClient(app) as client:
            yield app, client

    async def test_fixed_latency_on_one_operation(self, faulty: Any, sleeps: Sleeps) -> None:
        app, client = faulty
        app.services.update({"faults": {"operations": {"immutable/GetNFT": {"latency_ms": 250}}}})
        assert (await client.get(f"{IMX_BASE}/1")).status_code == 200
        assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200
        assert sleeps.calls == [0.25]  # only the configured operation waited

    async def test_uniform_latency_stays_in_range(self, faulty: Any, sleeps: Sleeps) -> None:
        app, client = faulty
        app.services.update({"faults": {"default": {"latency_ms": 100, "latency_max_ms": 300}}})
        for _ in range(20):
            await client.get(f"{IMX_BASE}/1")
        assert len(sleeps.calls) == 20
        assert all(0.1 <= s <= 0.3 for s in sleeps.calls)
        assert len(set(sleeps.calls)) > 1

    async def test_error_rate_gives_the_chosen_status_at_about_that_rate(self, faulty: Any) -> None:
        app, client = faulty
        app.services.update({"faults": {"default": {"error_rate": 0.5, "error_status": 500}}})
        statuses = [(await client.get(f"{IMX_BASE}/1")).status_code for _ in range(200)]
        failures = statuses.count(500)
        assert set(statuses) == {200, 500}
        assert 70 <= failures <= 130  # seeded, so this is the same every run

    async def test_injected_error_is_in_the_api_shape(self, faulty: Any) -> None:
        app, client = faulty
        app.services.update({"faults": {"operations": {"rair/updateTokenMetadata": {"error_rate": 1.0,
                                                                                     "error_status": 404}}}})
        before = rair_service(app.services).records.tokens()
        response = await client.post(RAIR_TOKEN_PATH, headers=rair_headers(), files={"name": (None, "x")})
        assert_error(response, 404, "injected fault")
        assert rair_service(app.services).records.tokens() == before


class TestOperationLimits:
    """Extra limits on any operation answer 429 in the API's shape with Retry-After and IETF RateLimit headers."""

    @pytest.fixture
    async def limited(self, make_app: Any) -> Any:
        app = make_app({"operation_limits.rair/getToken.limit": 2, "operation_limits.rair/getToken.window": 60})
        # 429 is not in RAIR's spec: the limit is an opt-in mock feature, so no spec check on these responses.
        async with ApiClient(app, validate=False) as client:
            yield app, client

    async def test_limit_per_credential_then_429(self, limited: Any, clock: ManualClock) -> None:
        _, client = limited
        first = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())
        assert first.headers["ratelimit-policy"] == '"rair/getToken";q=2;w=60'
        assert first.headers["ratelimit"] == '"rair/getToken";r=1;t=60'
        clock.advance(15)
        second = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())
        assert second.headers["ratelimit"] == '"rair/getToken";r=0;t=45'
        third = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())
        body = third.json()
        assert third.status_code == 429
        assert body == {"success": False, "error": True, "message": body["message"]}
        assert third.headers["retry-after"] == "45"
        # Another credential has its own allowance; the other operation is not limited at all.
        assert (await client.get(RAIR_TOKEN_PATH, headers=rair_headers("rair-collector-token"))).status_code == 200
        clock.advance(45)
        assert (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).status_code == 200

    async def test_requests_failing_validation_do_not_count(self, limited: Any) -> None:
        _, client = limited
        for _ in range(3):
            bad = await client.get(RAIR_TOKEN_PATH.replace("0x89", "nothex"), headers=rair_headers())
            assert bad.status_code == 400
        assert (await client.get(RAIR_TOKEN_PATH, headers=rair_headers())).status_code == 200

    async def test_keyed_by_client_address(self, make_app: Any) -> None:
        app = make_app({"operation_limits.*.limit": 1, "operation_limits.*.key": "client"})
        async with ApiClient(app, validate=False) as client:
            assert (await client.get(TKN_PATH, headers=tkn_headers())).status_code == 200
            # Same client, another credential and operation: the `*` limit is per client across operations.
            limited = await client.get(f"{IMX_BASE}/1")
        assert limited.status_code == 429
        assert limited.json()["code"] == "TOO_MANY_REQUESTS_ERROR"

