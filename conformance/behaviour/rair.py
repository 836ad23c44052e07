"""RAIR: owner-only metadata updates that persist exactly as sent, and uploads that are served back."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import samples
from conformance.behaviour.base import BehaviourCheck, CheckSkipped, Context, RuleSource
from conformance.behaviour.strategies import attributes as attribute_lists
from conformance.behaviour.strategies import slugs, texts
from conformance.exchange import Exchange, FilePart, RequestSpec
from conformance.target import RairToken

OPERATION = "updateTokenMetadata"
TEXT_FIELDS = ("name", "description", "artist", "external_url", "image", "animation_url")
_ABSOLUTE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _headers(credential: str) -> dict[str, str]:
    return {"x-rair-token": credential}


def _read(ctx: Context, token: RairToken) -> Exchange:
    exchange = ctx.send(
        RequestSpec(method="GET", path=token.path, headers=_headers(ctx.target.rair.owner_token))
    )
    ctx.expect_status(exchange, 200, why="GET of a token the target lists")
    return exchange


def _update(
    ctx: Context,
    token: RairToken,
    form: dict[str, str],
    files: tuple[FilePart, ...] = (),
    credential: str | None = None,
) -> Exchange:
    return ctx.send(
        RequestSpec(
            method="POST",
            path=token.path,
            form=form,
            files=files,
            headers=_headers(credential or ctx.target.rair.owner_token),
        )
    )


def _updates() -> st.SearchStrategy[dict[str, Any]]:
    """A non-empty set of metadata fields with valid values (URLs for the two fields that may name files)."""
    values: dict[str, st.SearchStrategy[Any]] = {
        name: texts() for name in ("name", "description", "artist", "external_url")
    }
    values["image"] = slugs().map(lambda s: f"https://example.com/images/{s}.png")
    values["animation_url"] = slugs().map(lambda s: f"https://example.com/animations/{s}.mp4")
    values["attributes"] = attribute_lists()
    return st.fixed_dictionaries({}, optional=values).filter(bool)


def _form(update: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if k == "attributes" else v for k, v in update.items()}


def update_round_trip(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]

    @given(update=_updates())
    def test(update: dict[str, Any]) -> None:
        before = _read(ctx, token).json()["result"]["metadata"]
        response = _update(ctx, token, _form(update))
        ctx.expect_status(response, 200, why="the owner updates valid fields")
        stored = response.json()["token"]
        wanted = {**before, **update}
        ctx.expect(
            stored["metadata"] == wanted,
            expected=f"metadata {wanted!r} (the fields sent, the rest as before)",
            actual=f"metadata {stored['metadata']!r}",
            exchange=response,
        )
        ctx.expect(
            stored.get("isURIStoredToBlockchain") is False,
            expected="isURIStoredToBlockchain false after an update",
            actual=f"isURIStoredToBlockchain {stored.get('isURIStoredToBlockchain')!r}",
            exchange=response,
        )
        after = _read(ctx, token)
        ctx.expect(
            after.json()["result"] == stored,
            expected="GET to return the token the update returned",
            actual=f"GET returned {after.json()['result']!r}",
            exchange=after,
        )
        ctx.ok(2)

    ctx.given(test)


def non_owner_forbidden(ctx: Context) -> None:
    other = ctx.target.rair.non_owner_token
    if other is None:
        raise CheckSkipped("the target names no non-owner credential (rair.non_owner_token)")
    token = ctx.target.rair.tokens[0]

    @given(update=_updates())
    def test(update: dict[str, Any]) -> None:
        before = _read(ctx, token)
        response = _update(ctx, token, _form(update), credential=other)
        ctx.expect_status(response, 403, why="a known user who does not own the contract")
        message = str((response.json() or {}).get("message", ""))
        wanted = f"You have no permissions for updating token {token.token}."
        ctx.expect(
            wanted in message,
            expected=f"message {wanted!r}",
            actual=f"message {message!r}",
            exchange=response,
        )
        ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
        ctx.ok()

    ctx.given(test)


def non_media_rejected(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]
    kinds = st.sampled_from(
        [
            ("notes.txt", "text/plain", samples.text),
            ("data.json", "application/json", samples.text),
            ("doc.pdf", "application/pdf", samples.pdf),
        ]
    )

    @given(kind=kinds, name=texts(), tag=slugs())
    def test(kind: tuple[str, str, Any], name: str, tag: str) -> None:
        filename, media_type, make = kind
        before = _read(ctx, token)
        response = _update(
            ctx,
            token,
            {"name": name},
            (FilePart(field="files", filename=filename, content_type=media_type, content=make(tag)),),
        )
        ctx.expect_status(response, 415, why=f"a {media_type} file is not image, video or audio")
        ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
        ctx.ok()

    ctx.given(test)


def uploaded_image_served(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]

    @given(tag=slugs(), field=st.sampled_from(["image", "animation_url"]))
    def test(tag: str, field: str) -> None:
        content = samples.png(tag)
        filename = f"cover-{tag}.png"
        response = _update(
            ctx,
            token,
            {field: filename},
            (FilePart(field="files", filename=filename, content_type="image/png", content=content),),
        )
        ctx.expect_status(response, 200, why=f"{field} names a PNG uploaded in the same request")
        url = str(response.json()["token"]["metadata"].get(field, ""))
        ctx.expect(
            bool(_ABSOLUTE_URL.match(url)),
            expected=f"{field} to become the URL of the uploaded file",
            actual=f"{field} = {url!r}",
            exchange=response,
        )
        served = ctx.fetch_served(url, what=f"that the uploaded {field} is served")
        if served is None:
            ctx.ok()
            return
        ctx.expect(
            served.status == 200 and served.response.content == content,
            expected=f"GET {url} to serve the uploaded bytes ({len(content)} bytes)",
            actual=served.summary(120) + f" ({len(served.response.content)} bytes)",
            exchange=served,
        )
        media = served.response.headers.get("content-type", "").split(";")[0].strip()
        ctx.expect(
            media == "image/png",
            expected="the file served as image/png",
            actual=f"Content-Type {media!r}",
            exchange=served,
        )
        ctx.ok(2)

    ctx.given(test)


CHECKS = (
    BehaviourCheck(
        name="update_round_trip",
        source=RuleSource.VENDOR_PAGE,
        cite="RAIR docs, 'Update specific token metadata by internal token ID': the response token",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=update_round_trip,
        description="An owner's update returns, and a following GET shows, exactly the fields sent; "
        "other fields keep their values.",
    ),
    BehaviourCheck(
        name="non_owner_forbidden",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, 403 (RAIR's server message, decided in BEHAVIOUR.md)",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=non_owner_forbidden,
        description="A known user who does not own the contract gets 403 with RAIR's message, "
        "and the token is unchanged.",
    ),
    BehaviourCheck(
        name="non_media_rejected",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, files: image, video or audio only (415)",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=non_media_rejected,
        description="A file that is not image, video or audio gets 415, and the token is unchanged.",
    ),
    BehaviourCheck(
        name="uploaded_file_served",
        source=RuleSource.VENDOR_PAGE,
        cite="RAIR docs, 'Update specific token metadata': image/animation_url are the full name of an uploaded file",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=uploaded_image_served,
        description="image/animation_url naming an uploaded file becomes a URL that serves that "
        "file's bytes with its media type.",
    ),
)
