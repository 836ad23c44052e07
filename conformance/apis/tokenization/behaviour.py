"""Tokenization TR: updates that show in GET, and every kind of rejection leaving the token as it was."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import samples
from conformance.apis.tokenization.target import tokenization_of
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context, RuleSource
from conformance.behaviour.strategies import hex_ids, slugs, texts
from conformance.exchange import Exchange, FilePart, RequestSpec, SizedStream

OPERATION = "updateToken"


def _token_path(token_id: str) -> str:
    return f"/v2/admin/token/{token_id}"


def _path(ctx: Context) -> str:
    return _token_path(ctx.target.tokenization.token_id)


def _headers(ctx: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.target.tokenization.bearer_token}"}


def _read(ctx: Context) -> Exchange:
    exchange = ctx.send(RequestSpec(method="GET", path=_path(ctx), headers=_headers(ctx)))
    ctx.expect_status(exchange, 200, why="GET of the token the target names")
    return exchange


def _update(ctx: Context, form: dict[str, str], files: tuple[FilePart, ...] = ()) -> Exchange:
    return ctx.send(RequestSpec(method="PUT", path=_path(ctx), headers=_headers(ctx), form=form, files=files))


def _current(before: Exchange) -> dict[str, str]:
    """The token's own name and description: the required fields of an update meant to change nothing else."""
    details = before.json()
    if not isinstance(details, dict) or not all(isinstance(details.get(k), str) for k in ("name", "description")):
        raise CheckFailed(
            expected="the token's details with its name and description", actual=before.summary(200), exchange=before
        )
    return {"name": details["name"], "description": details["description"]}


def _details(ctx: Context, exchange: Exchange) -> dict[str, Any]:
    return ctx.json_object(exchange, what="the token's details")


def _number(value: float | int) -> str:
    return str(value)


def _close(a: Any, b: float) -> bool:
    return isinstance(a, int | float) and math.isclose(float(a), b, rel_tol=1e-9, abs_tol=1e-9)


def update_round_trip(ctx: Context) -> None:
    numbers = st.integers(0, 10**9) | st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
    updates = st.fixed_dictionaries(
        {"name": texts(), "description": texts()},
        optional={
            "total_value": numbers,
            "salable_percentage": st.integers(0, 100) | st.floats(0, 100),
            "currency_token_id": hex_ids(),
            "oracle_id": hex_ids(),
            "oracle_code": texts(10),
        },
    )

    @given(update=updates, image=st.none() | slugs())
    def test(update: dict[str, Any], image: str | None) -> None:
        form = {k: _number(v) if isinstance(v, int | float) else v for k, v in update.items()}
        files: tuple[FilePart, ...] = ()
        if image is not None:
            files = (
                FilePart(
                    field="images",
                    filename=f"{image}.png",
                    content_type="image/png",
                    content=samples.png(image),
                ),
            )
        response = _update(ctx, form, files)
        ctx.expect_status(response, 200, why="a valid update")
        ctx.expect(
            response.response.content == b"",
            expected="an empty body on 200",
            actual=f"{len(response.response.content)} bytes: {response.response.text[:100]!r}",
            exchange=response,
        )
        after = _read(ctx)
        shown = after.json()
        expected: dict[str, Any] = {"name": update["name"], "description": update["description"]}
        actual: dict[str, Any] = {"name": shown.get("name"), "description": shown.get("description")}
        ok = expected == actual
        if "total_value" in update:
            expected["value.total_value.amount"] = update["total_value"]
            actual["value.total_value.amount"] = _shown(shown, "total_value")
            ok = ok and _close(actual["value.total_value.amount"], float(update["total_value"]))
        if "salable_percentage" in update:
            expected["value.salable_percentage"] = update["salable_percentage"]
            actual["value.salable_percentage"] = _shown(shown, "salable_percentage")
            ok = ok and _close(actual["value.salable_percentage"], float(update["salable_percentage"]))
        for field, where, read in (
            ("currency_token_id", "value.total_value.id", _value_object(shown, "total_value").get("id")),
            ("currency_token_id", "value.token_price.id", _value_object(shown, "token_price").get("id")),
            ("oracle_id", "oracle.id", (shown.get("oracle") or {}).get("id")),
            ("oracle_code", "oracle.code", (shown.get("oracle") or {}).get("code")),
        ):
            if field in update:
                expected[where], actual[where] = update[field], read
                ok = ok and str(read).lower() == str(update[field]).lower()
        ctx.expect(
            ok, expected=f"GET to show the values sent: {expected!r}", actual=f"{actual!r}", exchange=after
        )
        if image is not None:
            sha256 = hashlib.sha256(samples.png(image)).hexdigest()
            listed = [i for i in _attachments(shown, "images") if i.get("hash") == sha256]
            ctx.expect(
                bool(listed),
                expected=f"meta.images to list the added {image}.png with its sha256 {sha256} as hash",
                actual=f"meta.images {(shown.get('meta') or {}).get('images')!r}",
                exchange=after,
            )
            served = ctx.fetch_served(str(listed[-1].get("url")), what=f"that the added {image}.png is served")
            ctx.expect(
                served is None or (served.status == 200 and served.response.content == samples.png(image)),
                expected=f"the URL listed for {image}.png to serve its bytes",
                actual=served.summary(120) if served is not None else "",
                exchange=served,
            )
        ctx.ok(2)

    ctx.given(test)


def percentage_range(ctx: Context) -> None:
    outside = (
        st.floats(min_value=-1e12, max_value=-1e-6)
        | st.floats(min_value=100.000001, max_value=1e12)
        | st.integers(-(10**6), -1)
        | st.integers(101, 10**6)
    )

    @given(value=outside)
    def test(value: float) -> None:
        before = _read(ctx)
        response = _update(ctx, {**_current(before), "salable_percentage": _number(value)})
        ctx.expect_status(response, 400, why=f"salable_percentage {value} is outside 0 to 100")
        ctx.expect_unchanged(before, _read(ctx), rejected=response)
        ctx.ok()

    ctx.given(test)


def foreign_removal(ctx: Context) -> None:
    target = ctx.target.tokenization
    owned = {"remove_image_ids": target.image_ids, "remove_document_ids": target.document_ids}

    @given(field=st.sampled_from(sorted(owned)), stray=hex_ids(), with_own=st.booleans())
    def test(field: str, stray: str, with_own: bool) -> None:
        if stray in {i.lower() for ids in owned.values() for i in ids}:
            return
        before = _read(ctx)
        # An id of the token next to the stray one: the whole request must fail, removing neither.
        value = ",".join([*owned[field][:1], stray]) if with_own else stray
        response = _update(ctx, {**_current(before), field: value})
        ctx.expect_status(response, 400, why=f"{field} names {stray}, which is not the token's")
        ctx.expect_unchanged(before, _read(ctx), rejected=response)
        ctx.ok()

    ctx.given(test)


def file_too_large(ctx: Context) -> None:
    limit = ctx.target.tokenization.max_file_bytes
    prefixes = {
        "images": (samples.PNG_SIGNATURE, "image/png", "big.png"),
        "documents": (b"%PDF-1.4\n", "application/pdf", "big.pdf"),
    }

    @given(field=st.sampled_from(sorted(prefixes)), extra=st.integers(1, 4096))
    def test(field: str, extra: int) -> None:
        prefix, media_type, filename = prefixes[field]
        before = _read(ctx)
        part = FilePart(
            field=field,
            filename=filename,
            content_type=media_type,
            content=SizedStream(prefix, limit + extra),
        )
        response = _update(ctx, _current(before), (part,))
        ctx.expect_status(response, 413, why=f"a {limit + extra}-byte file is over the {limit}-byte limit")
        ctx.expect_unchanged(before, _read(ctx), rejected=response)
        ctx.ok()

    # Each example uploads the limit's worth of bytes: two are enough to see both fields.
    ctx.given(test, examples=2)


def wrong_type(ctx: Context) -> None:
    cases = [
        ("images", "notes.txt", "text/plain", samples.text, "a text file as an image"),
        ("images", "fake.png", "image/png", samples.text, "text declared as image/png (judged by content)"),
        ("images", "doc.pdf", "application/pdf", samples.pdf, "a PDF as an image"),
        ("documents", "pic.png", "image/png", samples.png, "a PNG as a document"),
        ("documents", "fake.pdf", "application/pdf", samples.text, "text declared as application/pdf"),
    ]

    @given(index=st.integers(0, len(cases) - 1), tag=slugs())
    def test(index: int, tag: str) -> None:
        field, filename, media_type, make, why = cases[index]
        before = _read(ctx)
        response = _update(
            ctx,
            _current(before),
            (FilePart(field=field, filename=filename, content_type=media_type, content=make(tag)),),
        )
        ctx.expect_status(response, 415, why=why)
        ctx.expect_unchanged(before, _read(ctx), rejected=response)
        ctx.ok()

    ctx.given(test, examples=max(ctx.examples, len(cases)))


def _expect_error(ctx: Context, exchange: Exchange, status: int, *, why: str) -> None:
    """`status` with this API's error body: JSON `{"status": <the HTTP status>, "message": "...", "field": ...}`.

    Only `bodies` judges the error shape; the checks of limits, credentials and unknown ids judge the status
    alone, so a server that keeps their rules but answers another error shape fails `bodies` once, not each of
    them.
    """
    ctx.expect_status(exchange, status, why=why)
    body = exchange.json()
    ctx.expect(
        exchange.media_type == "application/json"
        and isinstance(body, dict)
        and body.get("status") == status
        and isinstance(body.get("message"), str)
        and body["message"].strip() != ""
        and "field" in body
        and (body["field"] is None or isinstance(body["field"], str)),
        expected=f'{status} as application/json {{"status": {status}, "message": "...", "field": ...}} '
        "with a message saying what is wrong",
        actual=f"Content-Type {exchange.media_type!r}, " + exchange.summary(200),
        exchange=exchange,
    )


def _known_ids(ctx: Context) -> set[str]:
    target = ctx.target.tokenization
    return {i.lower() for i in (target.token_id, *target.other_token_ids)}


def _unknown_id(ctx: Context) -> str:
    """A well-formed id next to the target's (its last digit changed) that names none of the target's tokens."""
    token_id = tokenization_of(ctx.target).token_id
    return next(token_id[:-1] + d for d in "0123456789abcdef" if token_id[:-1] + d not in _known_ids(ctx))


def unknown_resources(ctx: Context) -> None:
    known = _known_ids(ctx)

    # The id next to the target's, then drawn ones: all well formed, none known.
    @given(token_id=hex_ids())
    @example(token_id=_unknown_id(ctx))
    def test(token_id: str) -> None:
        if token_id.lower() in known:
            return
        path = _token_path(token_id)
        # The vendor documents the 404; the error body's shape is this project's, checked by `bodies`.
        read = ctx.send(RequestSpec(method="GET", path=path, headers=_headers(ctx)))
        ctx.expect_status(read, 404, why=f"{token_id} names no token")
        write = ctx.send(
            RequestSpec(
                method="PUT",
                path=path,
                headers=_headers(ctx),
                form={"name": "conformance", "description": "an update of an unknown token"},
            )
        )
        ctx.expect_status(write, 404, why=f"an update of {token_id}, which names no token")
        again = ctx.send(RequestSpec(method="GET", path=path, headers=_headers(ctx)))
        ctx.expect(
            again.status == 404,
            expected=f"the rejected update of {token_id} to create nothing (GET still 404)",
            actual=again.summary(200),
            exchange=write,
        )
        ctx.ok(3)

    ctx.given(test, examples=min(ctx.examples, 5))


def _updates() -> st.SearchStrategy[dict[str, str]]:
    """Valid updates, every value as the text sent on the wire."""
    return st.fixed_dictionaries(
        {"name": texts(), "description": texts()},
        optional={
            "total_value": st.integers(0, 10**9).map(str),
            "salable_percentage": st.integers(0, 100).map(str),
            "oracle_code": texts(10),
        },
    )


def isolation(ctx: Context) -> None:
    others = ctx.target.tokenization.other_token_ids
    if not others:
        raise CheckSkipped("the target names no other token (tokenization.other_token_ids) to watch")

    def read(token_id: str) -> Exchange:
        exchange = ctx.send(RequestSpec(method="GET", path=_token_path(token_id), headers=_headers(ctx)))
        ctx.expect_status(exchange, 200, why=f"GET of {token_id}, which the target lists")
        return exchange

    def reader(token_id: str) -> Callable[[], Exchange]:
        return lambda: read(token_id)

    neighbours = [(f"token {other}", reader(other)) for other in others]

    @given(update=_updates())
    def test(update: dict[str, str]) -> None:
        def update_target() -> Exchange:
            response = _update(ctx, update)
            ctx.expect_status(response, 200, why="a valid update")
            return response

        ctx.expect_neighbours_untouched(update_target, neighbours, updated=ctx.target.tokenization.token_id)

    ctx.given(test, examples=min(ctx.examples, 5))


def monotonic_reads(ctx: Context) -> None:
    @given(update=_updates())
    def test(update: dict[str, str]) -> None:
        ctx.expect_repeatable(lambda: _read(ctx))
        response = _update(ctx, update)
        ctx.expect_status(response, 200, why="a valid update")
        seen = _read(ctx)
        ctx.expect(
            _details(ctx, seen).get("name") == update["name"],
            expected=f"GET after the update to show name {update['name']!r}",
            actual=seen.summary(300),
            exchange=seen,
        )
        ctx.expect_no_older_version(
            lambda: _read(ctx),
            lambda later: later.json() == seen.json(),
            expected="every later read to return the version already read, never an older one",
            also=f"; first read after the update: {seen.summary(300)}",
        )
        ctx.ok(6)

    ctx.given(test, examples=min(ctx.examples, 5))


# Just past each numeric bound, including steps that rounding or a tolerance would swallow.
_PAST_BOUND = {
    "salable_percentage": ("100.4", "100.0001", "100.000001", "101", "-0.1", "-0.0001", "-1"),
    "total_value": ("-0.1", "-0.000001", "-1"),
}
# At the bounds: (field, value sent, value GET must then show).
_AT_BOUND = (
    ("salable_percentage", "100", 100.0),
    ("salable_percentage", "100.0", 100.0),
    ("salable_percentage", "0", 0.0),
    ("total_value", "0", 0.0),
)


def _value_object(details: dict[str, Any], field: str) -> dict[str, Any]:
    """`value.token_price` or `value.total_value`: `{id, amount, decimal, symbol, address}` ({} when missing)."""
    value = details.get("value")
    found = value.get(field) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _shown(details: dict[str, Any], field: str) -> Any:
    """Where GET shows an update's numeric field: `total_value` as `value.total_value.amount`, `salable_percentage`
    as `value.salable_percentage` (the vendor's Get Token pages)."""
    if field == "total_value":
        return _value_object(details, "total_value").get("amount")
    value = details.get("value")
    return value.get(field) if isinstance(value, dict) else None


def limits_past_bound(ctx: Context) -> None:
    limit = ctx.target.tokenization.max_file_bytes
    for field, values in _PAST_BOUND.items():
        for value in values:
            before = _read(ctx)
            response = _update(ctx, {**_current(before), field: value})
            ctx.expect_status(response, 400, why=f"{field} {value} is past its bound")
            ctx.expect_unchanged(before, _read(ctx), rejected=response)
            ctx.ok()
    for field in ("name", "description"):
        before = _read(ctx)
        response = _update(ctx, {**_current(before), field: ""})
        ctx.expect_status(response, 400, why=f"{field} empty (minLength 1)")
        ctx.expect_unchanged(before, _read(ctx), rejected=response)
        ctx.ok()
    before = _read(ctx)
    part = FilePart(
        field="images",
        filename="one-byte-over.png",
        content_type="image/png",
        content=SizedStream(samples.PNG_SIGNATURE, limit + 1),
    )
    response = _update(ctx, _current(before), (part,))
    ctx.expect_status(response, 413, why=f"a {limit + 1}-byte file, one byte over the {limit}-byte limit")
    ctx.expect_unchanged(before, _read(ctx), rejected=response)
    ctx.ok()
    token_id = ctx.target.tokenization.token_id
    for malformed in (token_id[:-1], token_id + "0"):
        response = ctx.send(RequestSpec(method="GET", path=_token_path(malformed), headers=_headers(ctx)))
        ctx.expect_status(response, 400, why=f"{malformed} is {len(malformed)} hex digits, not 24")
        ctx.ok()


def limits_at_bound(ctx: Context) -> None:
    for field, value, wanted in _AT_BOUND:
        before = _read(ctx)
        response = _update(ctx, {**_current(before), field: value})
        ctx.expect_status(response, 200, why=f"{field} {value} is within its bounds")
        after = _read(ctx)
        shown = _shown(_details(ctx, after), field)
        ctx.expect(
            _close(shown, wanted),
            expected=f"GET to show {field} {wanted} as sent",
            actual=f"{field} {shown!r}",
            exchange=after,
        )
        ctx.ok()
    limit = ctx.target.tokenization.max_file_bytes
    content = samples.png_of_size(limit)
    if content is None:
        raise CheckSkipped(f"no PNG is as small as tokenization.max_file_bytes ({limit} bytes)")
    before = _read(ctx)
    name = f"exactly-{limit}-bytes.png"
    part = FilePart(field="images", filename=name, content_type="image/png", content=content)
    response = _update(ctx, _current(before), (part,))
    ctx.expect_status(response, 200, why=f"a PNG of exactly the {limit}-byte limit")
    sha256 = hashlib.sha256(content).hexdigest()
    listed = [i for i in _attachments(_details(ctx, _read(ctx)), "images") if i.get("hash") == sha256]
    ctx.expect(
        bool(listed),
        expected=f"meta.images to list {name} with its sha256 {sha256} as hash",
        actual=f"{listed!r}",
        exchange=response,
    )
    ctx.ok()


def _attachments(details: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    meta = details.get("meta")
    listed = meta.get(kind) if isinstance(meta, dict) else None
    return [a for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []


def credentials(ctx: Context) -> None:
    secret = ctx.target.tokenization.bearer_token
    refused = {
        "without its scheme": {"Authorization": secret},
        "under the Basic scheme": {"Authorization": f"Basic {secret}"},
        "under a Token scheme": {"Authorization": f"Token {secret}"},
        "in another header (x-api-key)": {"x-api-key": secret},
        "left out after the Bearer scheme": {"Authorization": "Bearer"},
    }
    for how, headers in refused.items():
        read = ctx.send(RequestSpec(method="GET", path=_path(ctx), headers=headers))
        ctx.expect_status(read, 401, why=f"the bearer token {how}")
        ctx.ok()
    before = _read(ctx)
    for how in ("without its scheme", "under the Basic scheme"):
        write = ctx.send(
            RequestSpec(method="PUT", path=_path(ctx), headers=refused[how], form=_current(before))
        )
        ctx.expect_status(write, 401, why=f"an update with the bearer token {how}")
        ctx.expect_unchanged(before, _read(ctx), rejected=write)
        ctx.ok()
    # RFC 9110, section 11.1: the authentication scheme is case-insensitive.
    for scheme in ("bearer", "BEARER", "bEaReR"):
        read = ctx.send(RequestSpec(method="GET", path=_path(ctx), headers={"Authorization": f"{scheme} {secret}"}))
        ctx.expect_status(read, 200, why=f"the scheme {scheme!r} is 'Bearer' in another case (RFC 9110)")
        ctx.ok()


_IMAGE_SAMPLES = (("png", "image/png", samples.png), ("gif", "image/gif", samples.gif))


_REMOVAL_FIELDS = {"images": "remove_image_ids", "documents": "remove_document_ids"}


def _attachment_ids(ctx: Context, read: Exchange, kind: str) -> set[str]:
    return {str(a.get("id")) for a in _attachments(_details(ctx, read), kind)}


def files(ctx: Context) -> None:
    @given(tag=slugs(), image=st.sampled_from(_IMAGE_SAMPLES))
    def test(tag: str, image: tuple[str, str, Any]) -> None:
        extension, image_type, make = image
        before_read = _read(ctx)
        before = _details(ctx, before_read)
        added = {
            "images": (f"{tag}.{extension}", image_type, make(tag)),
            "documents": (f"{tag}.pdf", "application/pdf", samples.pdf(tag)),
        }
        parts = tuple(
            FilePart(field=kind, filename=name, content_type=media_type, content=content)
            for kind, (name, media_type, content) in added.items()
        )
        response = _update(ctx, _current(before_read), parts)
        ctx.expect_status(response, 200, why="an update adding a valid image and document")
        after = _read(ctx)
        new_ids: dict[str, str] = {}
        for kind, (name, media_type, content) in added.items():
            old = {a.get("id") for a in _attachments(before, kind)}
            now = _attachments(_details(ctx, after), kind)
            ctx.expect(
                old <= {a.get("id") for a in now},
                expected=f"the added {name} to join meta.{kind}, keeping the {len(old)} already there",
                actual=f"meta.{kind} {now!r}",
                exchange=after,
            )
            sha256 = hashlib.sha256(content).hexdigest()
            fresh = [a for a in now if a.get("id") not in old and a.get("hash") == sha256
                     and (kind == "images" or a.get("name") == name)]
            ctx.expect(
                len(fresh) == 1,
                expected=f"meta.{kind} to list the added {name} once, with its sha256 {sha256} as hash"
                + (" and its file name as name" if kind == "documents" else ""),
                actual=f"meta.{kind} {now!r}",
                exchange=after,
            )
            new_ids[kind] = str(fresh[0].get("id"))
            served = ctx.http.get(str(fresh[0].get("url")))
            ctx.expect(
                served.status == 200 and served.response.content == content,
                expected=f"the URL listed for {name} to serve its {len(content)} bytes",
                actual=served.summary(120) + f" ({len(served.response.content)} bytes)",
                exchange=served,
            )
            ctx.expect(
                served.media_type == media_type,
                expected=f"{name} served with its media type {media_type}",
                actual=f"Content-Type {served.media_type!r}",
                exchange=served,
            )
            ctx.ok()
        # One kind at a time: a server that also drops the other kind (or other ids of the same kind) when
        # removing one would pass if both were removed together.
        remaining = {kind: _attachment_ids(ctx, after, kind) for kind in new_ids}
        for kind, attachment_id in new_ids.items():
            field = _REMOVAL_FIELDS[kind]
            response = _update(ctx, {**_current(before_read), field: attachment_id})
            ctx.expect_status(response, 200, why=f"removing the id of the token's own {kind[:-1]} ({field})")
            final = _read(ctx)
            left = {other: _attachment_ids(ctx, final, other) for other in new_ids}
            remaining = {**remaining, kind: remaining[kind] - {attachment_id}}
            ctx.expect(
                left == remaining,
                expected=f"{field}={attachment_id} to remove that one {kind[:-1]} and nothing else: "
                + ", ".join(f"meta.{k} ids {sorted(ids)}" for k, ids in remaining.items()),
                actual=", ".join(f"meta.{k} ids {sorted(ids)}" for k, ids in left.items()),
                exchange=response,
            )
            ctx.ok()

    ctx.given(test, examples=min(ctx.examples, 3))


def bodies(ctx: Context) -> None:
    read = _read(ctx)
    ctx.expect(
        read.media_type == "application/json"
        and isinstance(read.json(), dict)
        and str(read.json().get("id", "")).lower() == ctx.target.tokenization.token_id.lower(),
        expected="GET 200 as application/json, the details of the token asked for",
        actual=f"Content-Type {read.media_type!r}, " + read.summary(200),
        exchange=read,
    )
    ctx.ok()
    current = _current(read)
    text = FilePart(field="images", filename="a.txt", content_type="text/plain", content=samples.text())
    cases: list[tuple[int, str, RequestSpec]] = [
        (
            400,
            "an unknown form field",
            RequestSpec(method="PUT", path=_path(ctx), headers=_headers(ctx), form={**current, "colour": "red"}),
        ),
        (401, "no credential", RequestSpec(method="GET", path=_path(ctx))),
        (
            404,
            "an unknown token",
            RequestSpec(method="GET", path=_token_path(_unknown_id(ctx)), headers=_headers(ctx)),
        ),
        (
            415,
            "a text file as an image",
            RequestSpec(method="PUT", path=_path(ctx), headers=_headers(ctx), form=current, files=(text,)),
        ),
    ]
    for status, why, spec in cases:
        _expect_error(ctx, ctx.send(spec), status, why=why)
        ctx.ok()


def empty_success_body(ctx: Context) -> None:
    before = _read(ctx)
    response = _update(ctx, _current(before))
    ctx.expect_status(response, 200, why="a valid update")
    ctx.expect(
        response.response.content == b"" and response.media_type != "application/json",
        expected="200 with an empty body and no JSON Content-Type, as documented",
        actual=f"Content-Type {response.media_type!r}, {len(response.response.content)} bytes: "
        f"{response.response.text[:100]!r}",
        exchange=response,
    )
    ctx.ok()


def _instant(ctx: Context, exchange: Exchange, field: str) -> datetime:
    raw = _details(ctx, exchange).get(field)
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise CheckFailed(
            expected=f"{field} as an RFC 3339 date-time", actual=f"{field} {raw!r}", exchange=exchange
        ) from None


def timestamps(ctx: Context) -> None:
    @given(updates=st.lists(_updates(), min_size=2, max_size=3))
    def test(updates: list[dict[str, str]]) -> None:
        first = _read(ctx)
        if "updated_at" not in _details(ctx, first):
            raise CheckSkipped("the server sends no updated_at (optional: the vendor's page shows none)")
        created, previous = _instant(ctx, first, "created_at"), _instant(ctx, first, "updated_at")
        for update in updates:
            response = _update(ctx, update)
            ctx.expect_status(response, 200, why="a valid update")
            after = _read(ctx)
            updated = _instant(ctx, after, "updated_at")
            ctx.expect(
                updated > previous,
                expected=f"updated_at to advance past {previous.isoformat()} with the applied update",
                actual=f"updated_at {updated.isoformat()}",
                exchange=after,
            )
            ctx.expect(
                _instant(ctx, after, "created_at") == created,
                expected=f"created_at to stay {created.isoformat()}",
                actual=f"created_at {_details(ctx, after).get('created_at')!r}",
                exchange=after,
            )
            previous = updated
            ctx.ok()

    ctx.given(test, examples=min(ctx.examples, 3))


CHECKS = (
    BehaviourCheck(
        name="update_round_trip",
        source=RuleSource.VENDOR_PAGE,
        cite="Tokenization docs, 'Update Token': 200 and the updated fields; 'Get Token Details': where GET "
        "shows them (value.total_value.amount, the value objects' currency id, value.salable_percentage, "
        "meta.images[].hash)",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=update_round_trip,
        description="A valid update is 200 with an empty body, and GET then shows the new values where the "
        "vendor's Get Token Details page puts them (and an added image, its sha256 as hash, served at its URL).",
    ),
    BehaviourCheck(
        name="percentage_out_of_range",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, salable_percentage 0 to 100",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=percentage_range,
        description="salable_percentage below 0 or above 100 is 400, and the token is unchanged.",
    ),
    BehaviourCheck(
        name="foreign_id_removal",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, remove_image_ids / remove_document_ids must be the token's",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=foreign_removal,
        description="Removing an image or document id that is not the token's is 400, and nothing is "
        "removed (not even the token's own ids sent alongside).",
    ),
    BehaviourCheck(
        name="file_too_large",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, per-file size limit (413)",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=file_too_large,
        description="A file over the size limit (the target's max_file_bytes) is 413, and the token is "
        "unchanged.",
    ),
    BehaviourCheck(
        name="wrong_file_type",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, images PNG/JPEG/WebP/GIF, documents PDF (415)",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=wrong_type,
        description="An image that is not PNG/JPEG/WebP/GIF or a document that is not PDF, judged by "
        "content, is 415, and the token is unchanged.",
    ),
    BehaviourCheck(
        name="unknown_resources",
        source=RuleSource.VENDOR_PAGE,
        cite="Tokenization docs, 'Update Token', status codes: 404 Not Found - Token ID does not exist",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=unknown_resources,
        description="GET and PUT of a well-formed id that names no token are 404, and the PUT creates "
        "nothing.",
    ),
    BehaviourCheck(
        name="isolation",
        source=RuleSource.VENDOR_PAGE,
        cite="Tokenization docs, 'Update Token': token_id, the ID of the token to update",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=isolation,
        description="An update of one token leaves the other tokens the target names as they were.",
    ),
    BehaviourCheck(
        name="monotonic_reads",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, getToken: the token's details, with the files updateToken added or removed",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=monotonic_reads,
        description="Reads with no write between them answer the same, and once an update is read back no "
        "later read returns the older version.",
    ),
    BehaviourCheck(
        name="limits_past_bound",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, TokenUpdate: salable_percentage 0 to 100, total_value >= 0, name and "
        "description minLength 1, per-file size limit (413), token_id 24 hex digits",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=limits_past_bound,
        description="salable_percentage and total_value just past their bounds (100.4, 100.0001, -0.1, ...), "
        "empty name or description, a file one byte over the limit and a 23- or 25-digit id are rejected, "
        "and the token is unchanged.",
    ),
    BehaviourCheck(
        name="limits_at_bound",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, TokenUpdate: salable_percentage 0 to 100, total_value >= 0, per-file "
        "size limit",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=limits_at_bound,
        description="salable_percentage 0 and 100, total_value 0 and a file of exactly max_file_bytes are "
        "accepted and stored as sent (the file listed with its sha256 as hash).",
    ),
    BehaviourCheck(
        name="credentials",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, BearerAuth: Authorization: Bearer <token>, scheme case-insensitive "
        "(RFC 9110, BEHAVIOUR.md)",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=credentials,
        description="The bearer token without its scheme, under Basic or Token, in another header or empty is "
        "401 (changing nothing); 'bearer' in any case is accepted.",
    ),
    BehaviourCheck(
        name="files",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, updateToken: added files are served back with their media type at the "
        "URL listed under meta; removed ones disappear from meta",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=files,
        description="An added image and document join meta (the others kept), listed with their sha256 as "
        "hash (the document with its file name), and are served with their bytes and media type; removing one "
        "id removes that file from meta and nothing else.",
    ),
    BehaviourCheck(
        name="bodies",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, TokenizationError: {status, message, field}, status repeating the "
        "HTTP status",
        api="tokenization",
        operation_id=OPERATION,
        destructive=False,
        run=bodies,
        description="GET 200 is application/json; 400, 401, 404 and 415 are application/json "
        "{status, message, field} with status equal to the HTTP status and a message.",
    ),
    BehaviourCheck(
        name="empty_success_body",
        source=RuleSource.VENDOR_PAGE,
        cite="Tokenization docs, 'Update Token': an HTTP 200 status code with an empty response body",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=empty_success_body,
        description="A valid update is 200 with an empty body and no JSON Content-Type.",
    ),
    BehaviourCheck(
        name="timestamps",
        source=RuleSource.PROJECT,
        cite="specs/tokenization.yaml, TokenDetails: updated_at advances with each applied update, created_at "
        "stays",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=timestamps,
        description="updated_at moves forward with every applied update and never back; created_at stays.",
    ),
)
