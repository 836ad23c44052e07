"""Tokenization TR: updates that show in GET, and every kind of rejection leaving the token as it was."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import samples
from conformance.behaviour.base import BehaviourCheck, Context, RuleSource
from conformance.behaviour.strategies import hex_ids, slugs, texts
from conformance.exchange import Exchange, FilePart, RequestSpec, SizedStream

OPERATION = "updateToken"


def _path(ctx: Context) -> str:
    return f"/v2/admin/token/{ctx.target.tokenization.token_id}"


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
    return {"name": details["name"], "description": details["description"]}


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
            expected["value.total_value"] = update["total_value"]
            actual["value.total_value"] = (shown.get("value") or {}).get("total_value")
            ok = ok and _close(actual["value.total_value"], float(update["total_value"]))
        if "salable_percentage" in update:
            expected["salable_percentage"] = update["salable_percentage"]
            actual["salable_percentage"] = shown.get("salable_percentage")
            ok = ok and _close(actual["salable_percentage"], float(update["salable_percentage"]))
        for field, read in (
            ("currency_token_id", shown.get("currency_token_id")),
            ("oracle_id", (shown.get("oracle") or {}).get("id")),
            ("oracle_code", (shown.get("oracle") or {}).get("code")),
        ):
            if field in update:
                expected[field], actual[field] = update[field], read
                ok = ok and str(read).lower() == str(update[field]).lower()
        ctx.expect(
            ok, expected=f"GET to show the values sent: {expected!r}", actual=f"{actual!r}", exchange=after
        )
        if image is not None:
            listed = [
                i for i in (shown.get("meta") or {}).get("images", []) if i.get("name") == f"{image}.png"
            ]
            ctx.expect(
                bool(listed),
                expected=f"meta.images to list the added {image}.png",
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


CHECKS = (
    BehaviourCheck(
        name="update_round_trip",
        source=RuleSource.VENDOR_PAGE,
        cite="Tokenization docs, 'Update Token': 200 and the updated fields",
        api="tokenization",
        operation_id=OPERATION,
        destructive=True,
        run=update_round_trip,
        description="A valid update is 200 with an empty body, and GET then shows the new values "
        "(and an added image, served at its URL).",
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
)
