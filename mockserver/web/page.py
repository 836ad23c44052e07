"""The web page at `/`: plain HTML, CSS and JavaScript from `data/page/`, no build step and nothing from elsewhere.

The page reads everything it shows from the admin API (`/__mock/apis`, `/__mock/state`, `/__mock/rate-limits`,
`/__mock/journal`), so it needs no routes of its own beyond its files. The HTML names each registered API once, at
startup: its card (links to its Swagger UI and spec work without the admin API) and where its records go.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
from importlib import resources

from connexion import AsyncApp
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mockserver.apis import Api, registry
from mockserver.apis.page import RecordsTable

PAGE_PREFIX = "/__page/"

# The page's files and their types; nothing else under PAGE_PREFIX is served.
ASSET_TYPES = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
INDEX = "index.html"
INDEX_TYPE = "text/html; charset=utf-8"

# Everything from this origin only: the page works offline, and a stray `innerHTML` could not run injected script.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The files are small and not fingerprinted: the browser keeps them but asks (with If-None-Match) each time.
CACHE_CONTROL = "no-cache"


@dataclasses.dataclass(frozen=True)
class Asset:
    """One file of the page, read once, with its media type and entity tag."""

    data: bytes
    media_type: str
    etag: str


API_CARDS = "<!-- api cards: one per API, filled in by mockserver/web/page.py from the registry -->\n"
API_RECORDS = "<!-- api records: a table per API, filled in by mockserver/web/page.py from the registry -->\n"


def _read(name: str, media_type: str) -> Asset:
    return _asset((resources.files("mockserver") / "data" / "page" / name).read_bytes(), media_type)


def _asset(data: bytes, media_type: str) -> Asset:
    return Asset(data, media_type, f'"{hashlib.sha256(data).hexdigest()[:32]}"')


def _index(apis: tuple[Api[object], ...]) -> Asset:
    """index.html with a card and a records table's place for each API."""
    text = _read(INDEX, INDEX_TYPE).data.decode("utf-8")
    text = text.replace(API_CARDS, "".join(_card(api) for api in apis))
    text = text.replace(API_RECORDS, "".join(_records(api) for api in apis))
    return _asset(text.encode("utf-8"), INDEX_TYPE)


def _card(api: Api[object]) -> str:
    name, label = html.escape(api.name), html.escape(api.label)
    lines = [f'        <li class="api api-{name}">', f"          <h3>{label}</h3>"]
    if api.page is not None:
        # A line-break opportunity after each "/" but the first, so a long path wraps between segments.
        method, *segments = (html.escape(part) for part in api.page.operation.split("/"))
        operation = method + "/" + "/<wbr>".join(segments)
        lines += [f"          <p>{html.escape(api.page.summary)}</p>",
                  f'          <p class="paths"><code>{operation}</code></p>']
        if api.page.note is not None:
            lines.append(f'          <p class="paths" id="{name}-note">{_with_code(api.page.note)}</p>')
    lines.append(f'          <p class="links"><a href="/docs/{name}/">Swagger UI</a> '
                 f'<a href="/openapi/{name}.json">OpenAPI JSON</a></p>')
    lines.append("        </li>")
    return "\n".join(lines) + "\n"


def _with_code(text: str) -> str:
    """`text` as HTML, each backquoted part in `<code>` (the way the notes on the cards are written)."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))


def _records(api: Api[object]) -> str:
    if api.page is None:
        return ""
    places = [(api.name, api.page.table)]
    places += [(f"{api.name}-{table.records}", table) for table in api.page.more_tables]
    return "".join(_table_place(html.escape(place), table) for place, table in places)


def _table_place(place: str, table: RecordsTable) -> str:
    """Where page.js renders one table of records (its element id `place`), under its title and count."""
    return (f'      <h3 id="{place}-title">{html.escape(table.title)} '
            f'<span class="count" id="{place}-count"></span></h3>\n'
            f'      <div id="{place}" class="table-wrap api-records"><p class="empty">Loading…</p></div>\n')


class Page:
    """Serves `/` and the page's files under `/__page/`."""

    def __init__(self) -> None:
        self._index = _index(registry())
        self._assets = {name: _read(name, media_type) for name, media_type in ASSET_TYPES.items()}

    async def index(self, request: Request) -> Response:
        return _respond(request, self._index, {"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    async def asset(self, request: Request) -> Response:
        asset = self._assets.get(request.path_params["name"])
        if asset is None:
            raise HTTPException(404)
        return _respond(request, asset, {})

    def __repr__(self) -> str:
        return f"Page(assets={sorted(self._assets)})"


def _respond(request: Request, asset: Asset, extra: dict[str, str]) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff", **extra}
    tags = _etags(request.headers.get("if-none-match", ""))
    if asset.etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(asset.data, media_type=asset.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def add_page(app: AsyncApp) -> None:
    """Register the page's routes on a Connexion app (the root app, which serves what no API claims)."""
    page = Page()
    app.add_url_rule("/", "page", page.index)
    app.add_url_rule(PAGE_PREFIX + "{name}", "page_asset", page.asset)
