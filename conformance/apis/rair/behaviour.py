"""RAIR: owner-only metadata updates that persist exactly as sent, and uploads that are served back."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import samples
from conformance.apis.rair.target import RairToken
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context, RuleSource
from conformance.behaviour.strategies import attributes as attribute_lists
from conformance.behaviour.strategies import slugs, texts
from conformance.exchange import Exchange, FilePart, RequestSpec, SizedStream

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


def _reader(ctx: Context, token: RairToken) -> Callable[[], Exchange]:
    return lambda: _read(ctx, token)


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


def _expect_error(ctx: Context, exchange: Exchange, status: int, *, why: str) -> None:
    """`status` with RAIR's error body: JSON `{"success": false, "error": true, "message": "<what is wrong>"}`."""
    ctx.expect_status(exchange, status, why=why)
    body = exchange.json()
    ctx.expect(
        exchange.media_type == "application/json"
        and isinstance(body, dict)
        and body.get("success") is False
        and body.get("error") is True
        and isinstance(body.get("message"), str)
        and body["message"].strip() != "",
        expected=f'{status} as application/json {{"success": false, "error": true, "message": "..."}} '
        "with a message saying what is wrong",
        actual=f"Content-Type {exchange.media_type!r}, " + exchange.summary(200),
        exchange=exchange,
    )


def _token_of(ctx: Context, exchange: Exchange, key: str) -> dict[str, Any]:
    """The token in a 200 body: under `token` for an update, under `result` for a read."""
    token = ctx.json_object(exchange, what=f"a body with the token under {key!r}").get(key)
    if not isinstance(token, dict):
        raise CheckFailed(
            expected=f"the token as a JSON object under {key!r}", actual=exchange.summary(200), exchange=exchange
        )
    return token


def _png_part(name: str, content: bytes | SizedStream | None = None) -> FilePart:
    return FilePart(
        field="files",
        filename=name,
        content_type="image/png",
        content=samples.png(name) if content is None else content,
    )


def _unknown_paths(tokens: tuple[RairToken, ...]) -> dict[str, str]:
    """Well-formed paths naming, in turn, an unknown token, product, contract and network.

    Derived from the target's tokens and far from them, so that no server has them by chance.
    """
    known = tokens[0]
    far = 987_654_321
    contract = "0x" + hashlib.sha256(f"unknown {known.contract}".encode()).hexdigest()[:40]
    network = hex(int(known.network, 16) + 0x5EED0000)
    base = f"/api/nft/network/{known.network}/{known.contract}"
    return {
        "token": f"{base}/{known.product}/token/{max(t.token for t in tokens) + far}",
        "product": f"{base}/{max(t.product for t in tokens) + far}/token/{known.token}",
        "contract": f"/api/nft/network/{known.network}/{contract}/{known.product}/token/{known.token}",
        "network": f"/api/nft/network/{network}/{known.contract}/{known.product}/token/{known.token}",
    }


def unknown_resources(ctx: Context) -> None:
    paths = _unknown_paths(ctx.target.rair.tokens)
    owner = _headers(ctx.target.rair.owner_token)

    @given(update=_updates())
    def test(update: dict[str, Any]) -> None:
        for unknown, path in paths.items():
            read = ctx.send(RequestSpec(method="GET", path=path, headers=owner))
            _expect_error(ctx, read, 404, why=f"the path names an unknown {unknown}")
            write = ctx.send(RequestSpec(method="POST", path=path, headers=owner, form=_form(update)))
            _expect_error(ctx, write, 404, why=f"an update of a path naming an unknown {unknown}")
            again = ctx.send(RequestSpec(method="GET", path=path, headers=owner))
            ctx.expect(
                again.status == 404,
                expected=f"the rejected update of an unknown {unknown} to create nothing (GET still 404)",
                actual=again.summary(200),
                exchange=write,
            )
            ctx.ok(3)

    ctx.given(test, examples=min(ctx.examples, 4))


def isolation(ctx: Context) -> None:
    target, *others = ctx.target.rair.tokens
    if not others:
        raise CheckSkipped("the target lists one RAIR token (rair.tokens): no neighbour to watch")

    neighbours = [(f"token {other.token} (product {other.product})", _reader(ctx, other)) for other in others]

    @given(update=_updates())
    def test(update: dict[str, Any]) -> None:
        def update_target() -> Exchange:
            response = _update(ctx, target, _form(update))
            ctx.expect_status(response, 200, why="the owner updates valid fields")
            return response

        ctx.expect_neighbours_untouched(
            update_target, neighbours, updated=f"token {target.token} (product {target.product})"
        )

    ctx.given(test, examples=min(ctx.examples, 5))


def monotonic_reads(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]

    @given(update=_updates())
    def test(update: dict[str, Any]) -> None:
        ctx.expect_repeatable(lambda: _read(ctx, token))
        response = _update(ctx, token, _form(update))
        ctx.expect_status(response, 200, why="the owner updates valid fields")
        stored = _token_of(ctx, response, "token")
        ctx.expect_no_older_version(
            _reader(ctx, token),
            lambda later: _token_of(ctx, later, "result") == stored,
            expected="every read after the update to return the updated token, never the older version",
        )
        ctx.ok(5)

    ctx.given(test, examples=min(ctx.examples, 5))


def limits_past_bound(ctx: Context) -> None:
    rair = ctx.target.rair
    token = rair.tokens[0]
    tag = f"bound{ctx.seed}"
    oversize = SizedStream(samples.PNG_SIGNATURE, rair.max_file_bytes + 1)
    cases: list[tuple[int, str, dict[str, str], tuple[FilePart, ...]]] = [
        (
            400,
            f"{rair.max_files + 1} files, one more than the limit of {rair.max_files}",
            {"name": tag},
            tuple(_png_part(f"{tag}-{i}.png") for i in range(rair.max_files + 1)),
        ),
        (
            413,
            f"a file of {rair.max_file_bytes + 1} bytes, one over the {rair.max_file_bytes}-byte limit",
            {"name": tag},
            (_png_part(f"{tag}-big.png", oversize),),
        ),
        *[(400, f"{field} empty (minLength 1)", {field: ""}, ()) for field in TEXT_FIELDS],
    ]
    for status, why, form, files in cases:
        before = _read(ctx, token)
        response = _update(ctx, token, form, files)
        _expect_error(ctx, response, status, why=why)
        ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
        ctx.ok()
    negative = {"product": dataclasses.replace(token, product=-1), "token": dataclasses.replace(token, token=-1)}
    for field, path in negative.items():
        response = _update(ctx, path, {"name": tag})
        _expect_error(ctx, response, 400, why=f"{field} -1 is below its minimum of 0")
        ctx.ok()


def limits_at_bound(ctx: Context) -> None:
    rair = ctx.target.rair
    token = rair.tokens[0]
    tag = f"atbound{ctx.seed}"
    names = [f"{tag}-{i}.png" for i in range(rair.max_files)]
    form = {"image": names[0]} if names else {"name": tag}
    response = _update(ctx, token, form, tuple(_png_part(name) for name in names))
    ctx.expect_status(response, 200, why=f"{rair.max_files} files, exactly the limit")
    ctx.ok()
    content = samples.png_of_size(rair.max_file_bytes)
    if content is None:
        raise CheckSkipped(f"no PNG is as small as rair.max_file_bytes ({rair.max_file_bytes} bytes)")
    name = f"{tag}-full.png"
    response = _update(ctx, token, {"image": name}, (_png_part(name, content),))
    ctx.expect_status(response, 200, why=f"a file of exactly the {rair.max_file_bytes}-byte limit")
    ctx.ok()


def credentials(ctx: Context) -> None:
    owner = ctx.target.rair.owner_token
    token = ctx.target.rair.tokens[0]
    misplaced = {
        "in Authorization as a bearer token": {"Authorization": f"Bearer {owner}"},
        "in another header (x-api-key)": {"x-api-key": owner},
        "in x-rair-token behind a 'Bearer ' scheme": {"x-rair-token": f"Bearer {owner}"},
    }
    for where, headers in misplaced.items():
        before = _read(ctx, token)
        response = ctx.send(RequestSpec(method="POST", path=token.path, headers=headers, form={"name": where}))
        _expect_error(ctx, response, 401, why=f"the owner's credential {where}, not as x-rair-token")
        ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
        ctx.ok()
    other = ctx.target.rair.non_owner_token
    if other is not None:
        before = _read(ctx, token)
        response = _update(ctx, token, {"name": "not the owner"}, credential=other)
        _expect_error(ctx, response, 403, why="a known user who does not own the contract")
        ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
        ctx.ok()


def open_read(ctx: Context) -> None:
    for token in ctx.target.rair.tokens:
        signed_in = _read(ctx, token)
        anonymous = {
            "without x-rair-token": {},
            "with an unknown x-rair-token": _headers("conformance-unknown-credential"),
        }
        for how, headers in anonymous.items():
            response = ctx.send(RequestSpec(method="GET", path=token.path, headers=headers))
            ctx.expect_status(response, 200, why=f"a GET {how}: the read needs no credential")
            ctx.expect(
                response.json() == signed_in.json(),
                expected=f"a GET {how} to answer the same token as one with the owner's credential",
                actual=response.summary(),
                exchange=response,
            )
            ctx.ok()


_MEDIA_SAMPLES = {
    "image": [("png", "image/png", samples.png), ("gif", "image/gif", samples.gif)],
    "animation_url": [("mp4", "video/mp4", samples.mp4)],
}


def _served(ctx: Context, url: str, content: bytes, media_type: str, *, why: str) -> None:
    served = ctx.http.get(url)
    ctx.expect(
        served.status == 200 and served.response.content == content,
        expected=f"GET {url} to serve {why}: {len(content)} bytes",
        actual=served.summary(120) + f" ({len(served.response.content)} bytes)",
        exchange=served,
    )
    ctx.expect(
        served.media_type == media_type,
        expected=f"{why} served with its media type {media_type}",
        actual=f"Content-Type {served.media_type!r}",
        exchange=served,
    )


def file_media_types(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]
    kinds = [(field, *kind) for field, options in _MEDIA_SAMPLES.items() for kind in options]

    @given(order=st.permutations(kinds), tag=slugs())
    def test(order: list[tuple[str, str, str, Any]], tag: str) -> None:
        earlier: list[tuple[str, bytes, str]] = []
        for field, extension, media_type, make in order:
            name, content = f"{tag}.{extension}", make(tag)
            part = FilePart(field="files", filename=name, content_type=media_type, content=content)
            response = _update(ctx, token, {field: name}, (part,))
            ctx.expect_status(response, 200, why=f"{field} names a {media_type} file uploaded with it")
            metadata = _token_of(ctx, response, "token").get("metadata")
            url = str(metadata.get(field, "")) if isinstance(metadata, dict) else ""
            if not _ABSOLUTE_URL.match(url):
                raise CheckFailed(
                    expected=f"{field} to become the URL of the uploaded {name}",
                    actual=f"{field} = {url!r}",
                    exchange=response,
                )
            _served(ctx, url, content, media_type, why=f"the uploaded {name}")
            # A new upload adds a file: the ones uploaded before keep being served as they were.
            for old_url, old_content, old_type in earlier:
                _served(ctx, old_url, old_content, old_type, why="a file uploaded earlier, after a newer upload")
            earlier.append((url, content, media_type))
            ctx.ok()

    ctx.given(test, examples=min(ctx.examples, 3))


def bodies(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]
    read = _read(ctx, token)
    body = read.json()
    ctx.expect(
        read.media_type == "application/json"
        and isinstance(body, dict)
        and body.get("success") is True
        and isinstance(body.get("result"), dict),
        expected='GET 200 as application/json {"success": true, "result": <token>}',
        actual=f"Content-Type {read.media_type!r}, " + read.summary(200),
        exchange=read,
    )
    ctx.ok()
    cases: list[tuple[int, str, dict[str, str], tuple[FilePart, ...], str | None]] = [
        (400, "an unknown form field", {"colour": "red"}, (), None),
        (400, "a request that updates nothing", {}, (_png_part("alone.png"),), None),
        (401, "an unknown credential", {"name": "x"}, (), "conformance-unknown-credential"),
        (
            415,
            "a text file",
            {"name": "x"},
            (FilePart(field="files", filename="a.txt", content_type="text/plain", content=samples.text()),),
            None,
        ),
    ]
    if ctx.target.rair.non_owner_token is not None:
        cases.append((403, "a user who does not own the contract", {"name": "x"}, (), ctx.target.rair.non_owner_token))
    for status, why, form, files, credential in cases:
        response = _update(ctx, token, form, files, credential=credential)
        _expect_error(ctx, response, status, why=why)
        ctx.ok()


def media_names(ctx: Context) -> None:
    token = ctx.target.rair.tokens[0]

    @given(field=st.sampled_from(["image", "animation_url"]), tag=slugs())
    def test(field: str, tag: str) -> None:
        uploaded = f"{tag}.png"
        cases = [
            (f"{tag}.png", (), "no file is uploaded with it"),
            (f"other-{tag}.png", (_png_part(uploaded),), f"only {uploaded} is uploaded"),
            (tag, (_png_part(uploaded),), f"it is not the full name of the uploaded {uploaded}"),
        ]
        for value, files, why in cases:
            before = _read(ctx, token)
            response = _update(ctx, token, {field: value}, files)
            _expect_error(ctx, response, 400, why=f"{field} {value!r} names no uploaded file: {why}")
            ctx.expect_unchanged(before, _read(ctx, token), rejected=response)
            ctx.ok()

    ctx.given(test, examples=min(ctx.examples, 4))


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
    BehaviourCheck(
        name="unknown_resources",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, both operations: a well-formed path naming no known contract, product or "
        "token is 404 (BEHAVIOUR.md)",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=unknown_resources,
        description="GET and POST of a well-formed path naming an unknown token, product, contract or network "
        "are 404 in RAIR's error shape, and the POST creates nothing.",
    ),
    BehaviourCheck(
        name="isolation",
        source=RuleSource.VENDOR_PAGE,
        cite="RAIR docs, 'Update specific token metadata by internal token ID'",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=isolation,
        description="An update of one token leaves the target's other tokens as they were.",
    ),
    BehaviourCheck(
        name="monotonic_reads",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, getToken: after an update, GET returns the same token as that update's response",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=monotonic_reads,
        description="Reads with no write between them answer the same, and once an update is read back no "
        "later read returns the older version.",
    ),
    BehaviourCheck(
        name="limits_past_bound",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, updateTokenMetadata: files maxItems (400) and size limit (413), text fields "
        "minLength 1, product/token minimum 0",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=limits_past_bound,
        description="One file more than max_files is 400, a file one byte over max_file_bytes is 413, an empty "
        "text field and a negative product or token are 400, and the token is unchanged.",
    ),
    BehaviourCheck(
        name="limits_at_bound",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, updateTokenMetadata: at most max_files files, each at most max_file_bytes",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=limits_at_bound,
        description="Exactly max_files files, and a file of exactly max_file_bytes, are accepted.",
    ),
    BehaviourCheck(
        name="credentials",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, RairToken: the credential travels in x-rair-token; missing or unknown is 401, "
        "a non-owner 403",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=credentials,
        description="The owner's credential anywhere but x-rair-token (Authorization, another header, behind "
        "a scheme) is 401, a non-owner's is 403, and the token is unchanged.",
    ),
    BehaviourCheck(
        name="open_read",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, getToken: no credential needed, a sent one ignored (RAIR's server code: no "
        "requireUserSession on the GET route; BEHAVIOUR.md)",
        api="rair",
        operation_id="getToken",
        destructive=False,
        run=open_read,
        description="GET of each listed token without x-rair-token, and with an unknown one, is 200 with the "
        "same token as a GET with the owner's credential.",
    ),
    BehaviourCheck(
        name="file_media_types",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, files: every uploaded file is stored by content hash and served back with its "
        "media type at a URL of its own",
        api="rair",
        operation_id=OPERATION,
        destructive=True,
        run=file_media_types,
        description="Uploaded PNG, GIF and MP4 files are served with their bytes and media type, and files "
        "uploaded before keep being served after a newer upload.",
    ),
    BehaviourCheck(
        name="bodies",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, responses: JSON bodies, errors {success: false, error: true, message} "
        "(the shape RAIR documents, BEHAVIOUR.md)",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=bodies,
        description="GET 200 is application/json {success: true, result}; 400, 401, 403 and 415 are "
        "application/json {success: false, error: true, message} with a message.",
    ),
    BehaviourCheck(
        name="media_names",
        source=RuleSource.PROJECT,
        cite="specs/rair.yaml, image/animation_url: a bare name that matches no file uploaded in the same "
        "request is 400 (BEHAVIOUR.md)",
        api="rair",
        operation_id=OPERATION,
        destructive=False,
        run=media_names,
        description="image or animation_url naming a file not uploaded in the same request (none uploaded, "
        "another file, not the full name) is 400, and the token is unchanged.",
    ),
)
