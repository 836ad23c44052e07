"""Swagger UI of each API in a real headless Chromium: its server is the mock, and "Try it out" reaches it.

Uses the page test's browser and server (Debian's `chromium` through Playwright); see test_page_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_page_browser import WAIT_MS, browser, expect, playwright, serve
from tests.mockserver.support import IMX_CHAIN, IMX_COLLECTION

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "playwright"]  # the page test's fixtures, shared
pytestmark = [pytest.mark.network, pytest.mark.timeout(120)]


@pytest.fixture
def docs(browser: Browser) -> Iterator[tuple[Page, str]]:
    with serve() as base_url:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            yield page, base_url
        finally:
            context.close()


@pytest.mark.parametrize("api", ["rair", "immutable", "tokenization"])
def test_the_servers_list_names_the_mock(docs: tuple[Page, str], api: str) -> None:
    page, base_url = docs
    page.goto(f"{base_url}/docs/{api}/")
    expect(page.locator(".servers select option")).to_have_text([f"{base_url} - this mock server"])


def test_try_it_out_reads_an_nft_from_the_mock(docs: tuple[Page, str]) -> None:
    page, base_url = docs
    page.goto(f"{base_url}/docs/immutable/")
    operation = page.locator("#operations-nfts-GetNFT")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    for name, value in (("chain_name", IMX_CHAIN), ("contract_address", IMX_COLLECTION), ("token_id", "1")):
        operation.locator(f'tr[data-param-name="{name}"] input').fill(value)
    operation.locator(".execute").click()
    expect(operation.locator(".request-url pre")).to_have_text(
        f"{base_url}/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/nfts/1")
    answer = operation.locator(".live-responses-table tbody")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text('"token_id": "1"')
