"""A seed makes the mock reproducible: fresh servers with the same seed answer the same requests byte for byte."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner

from mockserver import cli
from mockserver.clock import ManualClock, SteppingClock, utc
from mockserver.settings import load_settings
from mockserver.web import MockApp, create_app
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_BASE,
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    TKN_PATH,
    ApiClient,
    Multipart,
    imx_headers,
    rair_headers,
    refresh_body,
    stub_server,
    tkn_headers,
)

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
Exchange = tuple[str, int, list[tuple[str, str]], bytes]

pytestmark = pytest.mark.anyio


def seeded_app(seed: int | None) -> MockApp:
    """A fresh app with no clock passed in, so its settings choose one (the seeded clock when there is a seed)."""
    return create_app(load_settings(environ={}, overrides={
        "seed": seed,
        "immutable.refresh_delay": 2,
        "immutable.rate_limit.limit": 3,
        # Half the list reads fail: which ones is the seeded generator's choice.
        "faults.operations.immutable/ListNFTs.error_rate": 0.5,
    }))


async def replay(app: MockApp) -> list[Exchange]:
    """One request sequence touching every generated value: trace ids, quota resets, refresh and update times,
    attachment ids, file URLs and injected faults."""
    upload = Multipart().fields({"name": "Seeded", "description": "same every run"}).file(
        "images", "seed.png", media.png(2, 2), "image/png").file("documents", "seed.pdf", media.pdf("seed"),
                                                                 "application/pdf")
    rair = Multipart().fields({"name": "Seeded", "image": "cover.png"}).file("files", "cover.png", media.png(),
                                                                              "image/png")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", IMX_REFRESH, {"json": refresh_body("1", "2", name="Refreshed"), "headers": imx_headers()}),
        ("GET", f"{IMX_BASE}/1", {}),
        ("GET", f"{IMX_BASE}/1", {}),  # two steps later: the refresh (delay 2 s) shows, with its time
        ("POST", IMX_REFRESH, {"json": refresh_body("3"), "headers": imx_headers()}),
        ("POST", IMX_REFRESH, {"json": refresh_body("3"), "headers": imx_headers()}),
        ("POST", IMX_REFRESH, {"json": refresh_body("3"), "headers": imx_headers()}),  # 429: quota of 3 spent
        ("GET", f"{IMX_BASE}/99", {}),  # 404 with a trace id
        ("POST", IMX_REFRESH, {"content": b"{", "headers": {**imx_headers(), "content-type": "application/json"}}),
        *[("GET", f"{IMX_BASE}?page_size=2", {}) for _ in range(6)],
        ("PUT", TKN_PATH, upload.request_kwargs(tkn_headers())),
        ("GET", TKN_PATH, {"headers": tkn_headers()}),
        ("POST", RAIR_TOKEN_PATH, rair.request_kwargs(rair_headers())),
        ("GET", RAIR_TOKEN_PATH, {"headers": rair_headers()}),
    ]
    exchanges = []
    async with ApiClient(app) as client:
        for method, path, kwargs in requests:
            response = await client.request(method, path, **kwargs)
            exchanges.append((f"{method} {path}", response.status_code, response.headers.multi_items(),
                              response.content))
    return exchanges


def trace_ids(exchanges: list[Exchange]) -> list[str]:
    ids = []
    for *_, body in exchanges:
        match = re.search(rb'"trace_id": "([^"]*)"', body)
        if match is not None:
            ids.append(match.group(1).decode())
    return ids


class TestSameSeedSameBytes:
    async def test_two_fresh_servers_answer_identically(self) -> None:
        first = await replay(seeded_app(42))
        second = await replay(seeded_app(42))

        assert first == second
        statuses = [status for _, status, _, _ in first]
        assert statuses[:8] == [202, 200, 200, 202, 202, 429, 404, 400]
        assert {500, 200} <= set(statuses[8:14]), "the faults should hit some list reads and spare others"
        ids = trace_ids(first)
        assert len(ids) == len(set(ids)) >= 4
        assert all(TRACE_ID.match(trace_id) for trace_id in ids)

    async def test_times_follow_the_seeded_clock(self) -> None:
        exchanges = await replay(seeded_app(42))

        def header(index: int, name: str) -> str:
            return dict(exchanges[index][2])[name]

        # The clock starts at 2026-01-01T00:00:00Z and moves 1 s per API request.
        assert header(0, "imx-refresh-limit-reset") == "2026-01-01 01:00:00 +0000 UTC"
        assert b'"updated_at": "2026-01-01T00:00:00.000000Z"' in exchanges[1][3]  # not yet refreshed
        assert b'"updated_at": "2026-01-01T00:00:02.000000Z"' in exchanges[2][3]  # refreshed at 0 s + 2 s delay
        assert header(5, "retry-after") == str(3600 - 5)
        assert b'"updated_at": "2026-01-01T00:00:14.000000Z"' in exchanges[15][3]  # the 15th request's PUT

    async def test_a_reset_server_replays_like_a_fresh_one(self) -> None:
        app = seeded_app(7)
        first = await replay(app)
        async with ApiClient(app, validate=False) as client:
            # The admin API moves no clock.
            assert (await client.post("/__mock/reset", headers={"X-Mock-Admin": "1"})).status_code == 204

        assert await replay(app) == first

    async def test_different_seeds_give_differenttrace_ids(self) -> None:
        one, other = trace_ids(await replay(seeded_app(1))), trace_ids(await replay(seeded_app(2)))

        assert len(one) >= 4
        assert not set(one) & set(other)

    async def test_without_a_seed_trace_ids_are_random_and_time_is_the_wall_clocks(self) -> None:
        app = seeded_app(None)
        first, second = trace_ids(await replay(app)), trace_ids(await replay(seeded_app(None)))

        assert all(TRACE_ID.match(trace_id) for trace_id in first + second)
        assert not set(first) & set(second)
        assert type(app.services.clock).__name__ == "SystemClock"

    async def test_a_clock_passed_in_wins_over_the_seeded_one(self) -> None:
        clock = ManualClock(start=0)
        app = create_app(load_settings(environ={}, overrides={"seed": 3}), clock=clock)

        async with ApiClient(app) as client:
            await client.get(f"{IMX_BASE}/1")

        assert app.services.clock is clock
        assert clock.time() == 0


class TestSeedIsFixedAtStartup:
    async def test_the_admin_api_cannot_change_it(self) -> None:
        app = seeded_app(1)
        async with ApiClient(app, validate=False) as client:
            response = await client.patch("/__mock/settings", json={"seed": 2})

        assert response.status_code == 400
        assert "seed cannot change while the server runs" in response.text
        assert app.settings.seed == 1


class TestSteppingClock:
    async def test_starts_at_2026_and_steps_per_tick(self) -> None:
        clock = SteppingClock()
        assert utc(clock).isoformat() == "2026-01-01T00:00:00+00:00"
        clock.tick()
        clock.advance(10)
        assert clock.time() == clock.start + 11
        clock.rewind()
        assert clock.time() == clock.start
        assert repr(clock) == "SteppingClock(now=2026-01-01T00:00:00+00:00, step=1.0)"


class TestServeSeedFlag:
    @pytest.fixture
    def served(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        return stub_server(monkeypatch)

    def test_seed_flag_sets_the_seed_and_drops_the_date_header(self, served: dict[str, Any]) -> None:
        result = CliRunner().invoke(cli.main, ["serve", "--seed", "5"], env={})

        assert result.exit_code == 0, result.output
        assert served["app"].settings.seed == 5
        assert isinstance(served["app"].services.clock, SteppingClock)
        assert served["date_header"] is False

    def test_flag_beats_set_and_no_seed_keeps_the_date_header(self, served: dict[str, Any]) -> None:
        assert CliRunner().invoke(cli.main, ["serve", "--set", "seed=1", "--seed", "2"], env={}).exit_code == 0
        assert served["app"].settings.seed == 2
        assert CliRunner().invoke(cli.main, ["serve"], env={}).exit_code == 0
        assert served["app"].settings.seed is None
        assert served["date_header"] is True

    def test_seed_must_be_a_number(self, served: dict[str, Any]) -> None:
        result = CliRunner().invoke(cli.main, ["serve", "--seed", "abc"], env={})

        assert result.exit_code == 2
        assert "app" not in served
