"""The web page at /: its HTML, CSS and JavaScript are served by the mock, typed, cached, and self-contained."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import pytest

from mockserver.web import MockApp
from mockserver.web.page import ASSET_TYPES, PAGE_PREFIX
from tests.mockserver.support import ApiClient

pytestmark = pytest.mark.anyio

PAGE_FILES = ["index.html", *ASSET_TYPES]
# The one absolute URL the page's files may hold: an XML namespace name, which nothing fetches.
NAMESPACES = {"http://www.w3.org/2000/svg"}


class Links(HTMLParser):
    """Every src and href of an HTML document, by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.found.append((tag, name, value))


def links(html: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.found


def page_file(name: str) -> str:
    return (resources.files("mockserver") / "data" / "page" / name).read_text("utf-8")


@pytest.fixture
async def http(app: MockApp) -> AsyncIterator[ApiClient]:
    async with ApiClient(app, validate=False) as client:
        yield client


class TestIndex:
    async def test_html_that_loads_the_script_and_stylesheet(self, http: ApiClient) -> None:
        response = await http.get("/")
        found = links(response.text)

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert ("script", "src", "/__page/page.js") in found
        assert ("link", "href", "/__page/page.css") in found

    async def test_locks_the_page_to_its_own_origin(self, http: ApiClient) -> None:
        response = await http.get("/")
        policy = response.headers["content-security-policy"]

        assert "default-src 'none'" in policy
        for directive in ("script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'"):
            assert directive in policy
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_links_every_api_to_its_swagger_ui_and_spec(self, http: ApiClient) -> None:
        hrefs = {value for tag, name, value in links((await http.get("/")).text) if tag == "a"}

        for api in ("rair", "immutable", "tokenization"):
            assert {f"/docs/{api}/", f"/openapi/{api}.json"} <= hrefs
            assert (await http.get(f"/docs/{api}/")).status_code == 200
            assert (await http.get(f"/openapi/{api}.json")).json()["openapi"] == "3.0.3"

    async def test_says_rair_reads_need_no_credential(self, http: ApiClient) -> None:
        page = (await http.get("/")).text

        assert "needs no <code>x-rair-token</code>" in page
    async def test_a_place_for_each_table_an_api_shows(self, http: ApiClient) -> None:
        html = (await http.get("/")).text

        # An API's main table goes under its name, each further one under `<api>-<records>`.
        for place, title in (("immutable", "Immutable NFTs"), ("immutable-metadata", "Immutable stacked metadata")):
            assert f'<h3 id="{place}-title">{title} <span class="count" id="{place}-count">' in html
            assert f'<div id="{place}" class="table-wrap api-records">' in html

    async def test_head_and_other_methods(self, http: ApiClient) -> None:
        assert (await http.head("/")).status_code == 200
        assert (await http.post("/")).status_code == 405


class TestAssets:
    @pytest.mark.parametrize(("name", "media_type"), ASSET_TYPES.items())
    async def test_served_with_their_type(self, http: ApiClient, name: str, media_type: str) -> None:
        response = await http.get(PAGE_PREFIX + name)

        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.text == page_file(name)

    @pytest.mark.parametrize("path", ["/", *(PAGE_PREFIX + name for name in ASSET_TYPES)])
    async def test_cached_but_revalidated(self, http: ApiClient, path: str) -> None:
        first = await http.get(path)
        again = await http.get(path, headers={"if-none-match": first.headers["etag"]})
        changed = await http.get(path, headers={"if-none-match": '"something-else"'})

        assert first.headers["cache-control"] == "no-cache"
        assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["etag"])
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", first.headers["etag"])
        assert changed.status_code == 200

    @pytest.mark.parametrize("name", ["nope.js", "index.html", "page.js.map", "PAGE.JS", "..%2Fpyproject.toml", ""])
    async def test_unknown_asset_is_404(self, http: ApiClient, name: str) -> None:
        response = await http.get(PAGE_PREFIX + name)

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


class TestWorksOffline:
    @pytest.mark.parametrize("name", PAGE_FILES)
    async def test_no_url_to_another_host(self, http: ApiClient, name: str) -> None:
        path = "/" if name == "index.html" else PAGE_PREFIX + name
        text = (await http.get(path)).text

        absolute = set(re.findall(r"(?i)https?://[^\s\"'<>)`]*", text)) - NAMESPACES
        # Protocol-relative too; `//` also starts comments in JS, so only an address-like run after it counts.
        relative = set(re.findall(r"(?i)(?<![:\w])//[a-z0-9-]+(?:\.[a-z0-9-]+)+[:/]", text))
        assert absolute | relative == set(), f"{name} refers to other hosts: {absolute | relative}"
        assert "@import" not in text

    async def test_every_link_of_the_html_is_on_this_server(self, http: ApiClient) -> None:
        html = (await http.get("/")).text

        for tag, name, value in links(html):
            assert value.startswith("/"), (tag, name, value)
            assert not value.startswith("//"), (tag, name, value)
            assert (await http.get(value.split("?")[0])).status_code == 200, value

    async def test_the_script_never_parses_data_as_html(self) -> None:
        script = page_file("page.js")

        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in script


class TestAdminApiItReads:
    async def test_the_admin_endpoints_the_script_polls(self, http: ApiClient) -> None:
        script = page_file("page.js")

        for path in ("/state", "/rate-limits", "/journal?limit="):
            assert f'"{path}' in script or f"`{path}" in script
        for path in ("/__mock/state", "/__mock/rate-limits", "/__mock/journal?limit=50"):
            assert (await http.get(path)).status_code == 200

    async def test_page_is_served_when_the_admin_api_is_off(self, make_app: Any) -> None:
        async with ApiClient(make_app({"host": "0.0.0.0"}), validate=False) as http:
            page = await http.get("/")
            state = await http.get("/__mock/state")

        assert page.status_code == 200
        assert state.status_code == 404  # what the page reports as "the admin API is off"

    async def test_admin_token_is_asked_for_with_401(self, make_app: Any) -> None:
        async with ApiClient(make_app({"admin.token": "s3cret"}), validate=False) as http:
            page = await http.get("/")
            without = await http.get("/__mock/state")
            with_token = await http.get("/__mock/state", headers={"authorization": "Bearer s3cret"})

        assert page.status_code == 200
        assert 'id="token-form"' in page.text
        assert (without.status_code, with_token.status_code) == (401, 200)
