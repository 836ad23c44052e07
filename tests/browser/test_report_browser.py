"""`conformance run --report-html` opened in a real headless Chromium: what a person reading the report sees.

Uses the page test's browser (Debian's `chromium` through Playwright); see tests/browser/test_page_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from conformance.cli import main
from tests.browser.test_page_browser import WAIT_MS, browser, expect, playwright
from tests.conformance import variants
from tests.conformance.conftest import mock_app, serve
from tests.conformance.test_validate_traffic import exchange, write_har

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "playwright"]  # the page test's fixtures, shared
pytestmark = [pytest.mark.network, pytest.mark.timeout(180)]

RED, GREEN = "rgb(207, 34, 46)", "rgb(45, 164, 78)"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run against a mock that answers GET of a token with the wrong Content-Type, written as HTML."""
    directory = tmp_path_factory.mktemp("report")
    with serve(variants.wrong_content_type(mock_app())) as url:
        result = CliRunner().invoke(main, [
            "run", "--api", "tokenization", "--base-url", url, "--max-examples", "5", "--seed", "7",
            "--report-html", str(directory / "report.html")])
    assert result.exit_code == 1, result.output
    return directory / "report.html"


@pytest.fixture
def page(browser: Browser, report: Path) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    requests: list[str] = []
    errors: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(report.as_uri(), wait_until="load")
    try:
        yield tab, requests
    finally:
        context.close()
    assert not errors, errors


def test_matrix_colours_each_operation_and_check_by_its_result(page: tuple[Page, list[str]]) -> None:
    tab, requests = page
    failed = tab.locator('td[data-operation="getToken"][data-check="content_type_conformance"]')
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_have_css("background-color", RED)
    passed = tab.locator('td[data-operation="updateToken"][data-check="not_a_server_error"]')
    expect(passed).to_have_attribute("data-status", "passed")
    expect(passed).to_have_css("background-color", GREEN)
    skipped = tab.locator('td[data-operation="updateToken"][data-check="positive_data_acceptance"]')
    expect(skipped).to_have_attribute("title", "positive_data_acceptance: skipped "
                                      "(valid writes change state: needs --allow-destructive)")
    # A behaviour check of one operation is no column of the other: that cell says it does not apply.
    expect(tab.locator('td[data-operation="getToken"][data-check="update_round_trip"]')).to_have_class(
        "cell absent")
    # One self-contained file: nothing but itself was loaded.
    assert len(requests) == 1, requests
    assert requests[0].startswith("file://"), requests


def test_failures_show_expected_got_and_a_reproducer_and_the_settings_show_the_seed(
        page: tuple[Page, list[str]]) -> None:
    tab, _ = page
    # The terminal's summary line: counts, and why checks were skipped.
    expect(tab.locator("#summary")).to_have_text(re.compile(r"^\d+ passed, 2 failed, 8 skipped "
                                                            r"\(8 need --allow-destructive\) in [\d.]+s$"))
    expect(tab.locator("#summary")).to_have_css("color", RED)
    failure = tab.locator(".failure").filter(has_text="getToken · content_type_conformance").first
    expect(failure.locator(".expected")).to_contain_text("expected: a documented Content-Type")
    expect(failure.locator(".got")).to_contain_text("got: ")
    expect(failure.locator(".reproducer")).to_contain_text("curl -X GET")
    settings = tab.locator("#settings")
    expect(settings).to_contain_text("seed7")
    expect(settings).to_contain_text("max examples5")
    expect(settings).to_contain_text("destructive checksoff")


def test_a_report_of_recorded_traffic_shows_no_seed(browser: Browser, tmp_path: Path) -> None:
    har = write_har(tmp_path / "traffic.har", exchange(404, {"error": "gone"}))
    html = tmp_path / "traffic.html"
    result = CliRunner().invoke(main, ["validate-traffic", str(har), "--report-html", str(html)])
    assert result.exit_code == 1, result.output
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        tab.goto(html.as_uri(), wait_until="load")
        settings = tab.locator("#settings")
        expect(settings).to_contain_text("checkedrecorded traffic, offline")
        expect(settings).not_to_contain_text("seed")
        expect(settings).not_to_contain_text("max examples")
    finally:
        tab.close()
    assert not errors, errors
