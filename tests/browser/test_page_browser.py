"""The page at / in a real headless Chromium: it shows the store, rate limits and journal, and follows API updates.

Needs Debian's `chromium` (`apt-get install chromium`) and the `playwright` package; the browser Playwright
would download is never used (`playwright install` is not needed). Set UPDATE_PAGE_SCREENSHOT=1 to also write
the screenshot the README shows, docs/page.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from mockserver.settings import load_settings
from mockserver.web import create_app
from mockserver.web.proxy import create_proxy_app
from tests.mockserver import media
from tests.mockserver.support import IMX_ALPHA, IMX_REFRESH, RAIR_OWNER, RAIR_TOKEN_PATH, refresh_body
from tests.mockserver.web.faulty_upstream import NFTS, faulty_upstream

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

pytestmark = [pytest.mark.network, pytest.mark.timeout(120)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000  # for anything the page must show: it polls every second
ROOT = Path(__file__).resolve().parents[2]
README_SCREENSHOT = ROOT / "docs" / "page.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ADMIN_TOKEN = "browser-test-admin-token"
MARKUP_ATTRIBUTES = '[{"trait_type": "Note", "value": "<b>bold</b> & <img src=x onerror=alert(1)>"}]'

if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
expect = sync_api.expect


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_api.sync_playwright() as running:  # one per module: the sync API runs one at a time
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
    try:
        yield browser
    finally:
        browser.close()


@contextlib.contextmanager
def serve(overrides: Mapping[str, Any] | None = None, app: Any = None) -> Iterator[str]:
    """A mock server (or `app`) on the wall clock on a free port of 127.0.0.1, as in
    tests/mockserver/web/test_server.py."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    app = app or create_app(load_settings(environ={}, overrides=overrides))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive(), "the server did not stop"


@pytest.fixture
def base_url() -> Iterator[str]:
    with serve() as url:
        yield url


class Visit:
    """A browser tab on the mock that records what the page asked for and what went wrong in it."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", lambda message: self.errors.append(f"console: {message.text}")
                     if message.type == "error" else None)

    def open(self) -> Page:
        self.page.goto(self.base_url + "/", wait_until="domcontentloaded")
        return self.page

    def close(self) -> None:
        self.context.close()

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base_url + "/")]


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Visit]:
    tab = Visit(browser, base_url)
    try:
        yield tab
    finally:
        tab.close()


def test_page_shows_stacked_metadata_and_its_refresh(visit: Visit) -> None:
    page = visit.open()
    stacked = page.locator('#immutable-metadata tr[data-metadata="4e28df8d-f65c-4c11-ba04-6a9dd47b179b"]')
    expect(stacked.locator("td.name")).to_have_text("Iron Helmet", timeout=WAIT_MS)
    alpha = page.locator('#rate-limits tr[data-project="project-alpha"]')
    expect(alpha.locator(".operations")).to_have_text("RefreshNFTMetadataByTokenID, RefreshMetadataByID")

    with httpx.Client(base_url=visit.base_url, timeout=10) as http:
        refreshed = http.post(
            "/v1/chains/imtbl-zkevm-testnet/collections/0x8a90cab2b38dba80c64b7734e58ee1db38b8992e/metadata/"
            "refresh-metadata", headers={"x-immutable-api-key": IMX_ALPHA},
            json={"metadata": [{"metadata_id": "4e28df8d-f65c-4c11-ba04-6a9dd47b179b", "name": "Steel Helmet",
                                "description": None, "image": None, "external_url": None, "animation_url": None,
                                "youtube_url": None, "attributes": []}]})
    assert refreshed.status_code == 202, refreshed.text

    expect(stacked.locator("td.name")).to_have_text("Steel Helmet", timeout=WAIT_MS)
    expect(page.locator("#immutable td.name").filter(has_text="Steel Helmet")).to_have_count(2)
    expect(alpha.locator(".remaining")).to_have_text("999")
    assert visit.errors == []


def test_page_follows_updates_made_through_the_apis(visit: Visit, tmp_path: Path) -> None:
    page = visit.open()
    immutable_names = page.locator("#immutable td.name")
    alpha_remaining = page.locator('#rate-limits tr[data-project="project-alpha"] .remaining')
    expect(immutable_names.filter(has_text=re.compile(r"^Sword$"))).to_have_count(1)
    expect(alpha_remaining).to_have_text("1000")
    expect(page.locator("#journal-entries")).to_contain_text("No requests yet")
    # Tokenization's value objects, shown with their currency's symbol.
    expect(page.locator('#tokenization tr[data-token="67d8774e903bfcbe7eb5d93e"]')).to_contain_text(
        "12000 USDT (30 USDT each)")

    with httpx.Client(base_url=visit.base_url, timeout=10) as http:
        refreshed = http.post(IMX_REFRESH, json=refresh_body("1", name="Sword of Tests"),
                              headers={"x-immutable-api-key": IMX_ALPHA})
        uploaded = http.post(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER},
                             data={"name": "Cover of Tests", "image": "cover.png", "attributes": MARKUP_ATTRIBUTES},
                             files={"files": ("cover.png", media.png(24, 24, colour=(59, 91, 219)), "image/png")})
    assert (refreshed.status_code, uploaded.status_code) == (202, 200), (refreshed.text, uploaded.text)

    expect(immutable_names.filter(has_text=re.compile(r"^Sword of Tests$"))).to_have_count(1)
    expect(alpha_remaining).to_have_text("999")
    journal = page.locator("#journal-entries tbody tr")
    refresh_row = journal.filter(has_text="RefreshNFTMetadataByTokenID")
    expect(refresh_row).to_have_count(1)
    expect(refresh_row).to_contain_text("POST")
    expect(refresh_row).to_contain_text("202")
    expect(refresh_row).to_contain_text("/nfts/refresh-metadata")
    expect(journal.filter(has_text="rair")).to_contain_text("200")
    rair_token = page.locator('#rair tr[data-token="1"]')
    expect(rair_token.locator("td.name")).to_have_text("Cover of Tests")
    # Client-supplied text is shown as text: the markup in the new attribute is visible, not parsed.
    expect(rair_token.locator(".chips li")).to_have_text("Note <b>bold</b> & <img src=x onerror=alert(1)>")
    expect(page.locator("#rair b, #rair .chips img")).to_have_count(0)
    image = rair_token.locator("img")
    expect(image).to_have_attribute("src", re.compile(r"^/files/[0-9a-f]{64}$"))
    page.wait_for_function("img => img.complete && img.naturalWidth === 24", arg=image.element_handle())

    screenshot = tmp_path / "page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 1000
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    if os.environ.get("UPDATE_PAGE_SCREENSHOT"):
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(README_SCREENSHOT), full_page=True)

    assert visit.foreign_requests() == []
    assert visit.errors == []


def test_page_says_when_the_admin_api_is_off(browser: Browser) -> None:
    with serve({"host": "0.0.0.0"}) as base_url:  # bound beyond loopback without admin.token: no /__mock/
        visit = Visit(browser, base_url)
        try:
            page = visit.open()
            expect(page.locator("#notice")).to_be_visible()
            expect(page.locator("#notice-title")).to_have_text("The admin API is off")
            expect(page.locator("#status-text")).to_have_text("Admin API off")
            expect(page.get_by_role("link", name="Swagger UI")).to_have_count(3)
            assert visit.foreign_requests() == []
            assert visit.errors == [] or all("404" in error for error in visit.errors), visit.errors
        finally:
            visit.close()


def test_page_asks_for_the_admin_token(browser: Browser) -> None:
    with serve({"admin.token": ADMIN_TOKEN}) as base_url:
        visit = Visit(browser, base_url)
        try:
            page = visit.open()
            expect(page.locator("#notice-title")).to_have_text("The admin API needs a token")
            expect(page.locator("#token-form")).to_be_visible()

            page.get_by_label("Admin token").fill("wrong")
            page.get_by_role("button", name="Use token").click()
            expect(page.locator("#notice-text")).to_contain_text("was refused")

            page.get_by_label("Admin token").fill(ADMIN_TOKEN)
            page.get_by_role("button", name="Use token").click()
            expect(page.locator("#notice")).to_be_hidden()
            expect(page.locator("#immutable td.name").filter(has_text=re.compile(r"^Sword$"))).to_have_count(1)
            assert page.evaluate("() => sessionStorage.getItem('mockserver.adminToken')") == ADMIN_TOKEN
            assert visit.foreign_requests() == []
        finally:
            visit.close()


# The admin API in a browser: what its Swagger UI can do, and what a page that reached the mock by DNS rebinding
# cannot.

REBOUND_HOST = "rebound.example"  # a hostile page's name, re-pointed at 127.0.0.1 by its DNS


def test_swagger_ui_try_it_out_resets_the_mock(visit: Visit) -> None:
    with httpx.Client(base_url=visit.base_url) as client:
        client.post(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER}, files={"name": (None, "Changed")})
        page = visit.page
        page.goto(visit.base_url + "/__mock/docs/")
        operation = page.locator("#operations-default-reset")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        # The X-Mock-Admin example fills the header field: "Execute" works without typing anything.
        expect(operation.locator("input[placeholder='X-Mock-Admin']")).to_have_value("1")
        operation.get_by_role("button", name="Execute").click()
        expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text("204")
        token = client.get(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER}).json()["result"]
    assert token["metadata"]["name"] != "Changed"
    assert visit.foreign_requests() == []


def test_a_page_on_a_rebound_name_can_neither_read_nor_reset_the_mock(playwright: Playwright) -> None:
    # Chromium's resolver rule stands in for the hostile DNS: the page's origin is http://rebound.example:PORT,
    # served by the mock itself, so to the browser every /__mock/ call is same-origin and needs no CORS.
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {REBOUND_HOST} 127.0.0.1"]
    with serve() as base_url:
        port = base_url.rsplit(":", 1)[1]
        with httpx.Client(base_url=base_url) as client:
            client.post(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER}, files={"name": (None, "Changed")})
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, timeout=30_000)
            try:
                page = browser.new_page()
                page.goto(f"http://{REBOUND_HOST}:{port}/openapi/immutable.json")  # the three APIs answer any name
                statuses = page.evaluate("""async () => {
                    const read = await fetch("/__mock/settings");
                    const reset = await fetch("/__mock/reset", {method: "POST", headers: {"X-Mock-Admin": "1"}});
                    const index = await fetch("/");
                    return [read.status, reset.status, index.status, await read.text()];
                }""")
            finally:
                browser.close()
            token = client.get(RAIR_TOKEN_PATH, headers={"x-rair-token": RAIR_OWNER}).json()["result"]
    assert statuses[:3] == [403, 403, 403], statuses
    assert "admin.allowed_hosts" in statuses[3]
    assert token["metadata"]["name"] == "Changed"  # not reset


def test_page_highlights_the_violations_a_proxy_found(browser: Browser) -> None:
    proxy = create_proxy_app("http://upstream.test", transport=httpx.ASGITransport(app=faulty_upstream()))
    with serve(app=proxy) as url:
        tab = Visit(browser, url)
        try:
            page = tab.open()
            httpx.get(f"{url}{NFTS}/4")  # a 404 in a shape of its own
            httpx.get(f"{url}{NFTS}/5")  # a 404 as the spec says
            rows = page.locator("#journal-entries tbody tr")
            expect(rows).to_have_count(2)
            broken = page.locator("#journal-entries tbody tr.violated")
            expect(broken).to_have_count(1)
            expect(broken).to_contain_text("error-shape")
            expect(broken).to_contain_text("/nfts/4")
            expect(rows.filter(has_text="/nfts/5")).to_contain_text("none")
            assert broken.evaluate("row => getComputedStyle(row).backgroundColor") != \
                rows.filter(has_text="/nfts/5").evaluate("row => getComputedStyle(row).backgroundColor")
            assert tab.errors == []
        finally:
            tab.close()
