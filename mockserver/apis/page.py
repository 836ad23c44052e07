"""What the page at `/` shows of an API: its card, the table of its records and its quota, as data.

The admin API serves these (`GET /__mock/apis`) and the page's script renders them, so the page's code names no
API. A column's `kind` says how its value is shown; `field` is a dotted path into a record.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

ColumnKind = Literal["text", "short", "image", "attributes", "time", "yes-no", "percent", "images", "files", "each"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    title: str
    field: str
    # text, short (a long id, elided), image (a stored file shown, else its reference), attributes (trait chips),
    # time, yes-no, percent, images / files (attachments), each (`field` with the unit price in `other`, each a
    # number or an amount object `{amount, symbol}`).
    kind: ColumnKind = "text"
    # The class of its cells (`name`, `desc`, `nowrap`), for the page's stylesheet and tests.
    css: str | None = None
    # `image`: the field naming what the image shows (alt "Image of <it>", else of `noun`); `each`: the unit price.
    other: str | None = None
    noun: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordsTable:
    title: str
    # The list in the API's section of `/__mock/state` holding the records, and the field each row is marked with
    # (`data-token`).
    records: str
    row_id: str
    columns: tuple[Column, ...]
    empty: str
    # The name of the attribute marking each row with its `row_id`: `data-<row_attribute>`.
    row_attribute: str = "token"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Count:
    """A number in the API's section of `/__mock/state` shown in the store's summary, with what it counts."""

    field: str
    label: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Switch:
    """A yes/no field of an API's view in `/__mock/rate-limits`, said in words on the page."""

    field: str
    on: str
    off: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class QuotaView:
    """How the page shows the API's view in `/__mock/rate-limits` (`limit`, `window`, `strategy`, `cost` and a
    list of who spends it, each with `limit`, `remaining` and `reset`)."""

    summary: str
    title: str
    # A yes/no field of the quota said after the summary: what it means when true (or absent), and when false.
    switch: Switch | None = None
    # A field of each row listing what spends that row's budget, shown in a "Spent by" column.
    spent_by: str | None = None
    # The list of who spends it, and each one's key (also the rows' `data-<key>` attribute and first column).
    rows: str
    row_key: str
    row_title: str
    empty: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class PageView:
    summary: str
    # The operation the card names, as `METHOD /path`.
    operation: str
    # A line under it on the card, in plain text with `code` in backquotes (what a client would not expect, say).
    note: str | None = None
    table: RecordsTable
    # Further tables of the API's records, each under the main one (element id `<api>-<records>`).
    more_tables: tuple[RecordsTable, ...] = ()
    counts: tuple[Count, ...] = ()
    quota: QuotaView | None = None
