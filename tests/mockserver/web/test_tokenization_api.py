"""Tokenization TR admin tokens through the ASGI app: updates with attachments, and every documented error."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from mockserver.clock import ManualClock
from mockserver.web import MockApp
from tests.mockserver import media
from tests.mockserver.support import (
    TKN_DOCUMENT_ID,
    TKN_IMAGE_ID,
    TKN_OTHER_TOKEN,
    TKN_PATH,
    TKN_SEED_BEARER,
    TKN_TOKEN,
    ApiClient,
    Multipart,
    assert_error,
    rejected_without_change,
    tkn_headers,
)
from tests.vendor_tables import tokenization_get_token_fields

pytestmark = pytest.mark.anyio

REQUIRED = {"name": "Renamed", "description": "Described"}
USDT = "68fe8c129367fd414b227c7a"  # the currency of the fixtures' first token


def form(**fields: str) -> Multipart:
    return Multipart().fields({**REQUIRED, **fields})


async def put(client: ApiClient, body: Multipart, *, path: str = TKN_PATH,
              headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.put(path, **body.request_kwargs(tkn_headers() if headers is None else headers))


async def details(client: ApiClient, token_id: str = TKN_TOKEN) -> dict[str, Any]:
    response = await client.get(f"/v2/admin/token/{token_id}", headers=tkn_headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestRead:
    """GET returns the token's details in the vendor's shape, with its files' URLs."""

    async def test_details(self, client: ApiClient) -> None:
        token = await details(client)

        assert token["id"] == TKN_TOKEN
        assert token["name"] == "TKN Token Name"
        assert token["value"]["total_value"] == {"id": USDT, "amount": 12000, "decimal": 6, "symbol": "USDT",
                                                 "address": "0xdac17f958d2ee523a2206206994597c13d831ec7"}
        assert token["value"]["token_price"] == {**token["value"]["total_value"], "amount": 30}
        assert token["value"]["salable_percentage"] == 60
        assert token["oracle"] == {"id": "677ed6e3cc111aea14a3dfc3", "code": "IOG"}
        assert [a["id"] for a in token["meta"]["images"]] == [TKN_IMAGE_ID]
        assert [a["id"] for a in token["meta"]["documents"]] == [TKN_DOCUMENT_ID]
        assert "supply" not in token

    async def test_fixture_attachments_are_served(self, client: ApiClient) -> None:
        token = await details(client)
        image, document = token["meta"]["images"][0], token["meta"]["documents"][0]

        served = await client.get(image["url"])

        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert hashlib.sha256(served.content).hexdigest() == image["hash"]
        assert image["is_default"] is True
        assert (document["name"], document["type"], document["deleted_at"]) == ("prospectus.pdf", 1, None)

    async def test_a_token_without_currency(self, client: ApiClient) -> None:
        value = (await details(client, TKN_OTHER_TOKEN))["value"]

        assert value["total_value"] == {"id": None, "amount": 250000, "decimal": None, "symbol": None,
                                        "address": None}


JSON_TYPES = {"string": str, "integer": int, "number": int | float, "boolean": bool, "object": dict}


def vendor_read(token: dict[str, Any], path: str) -> list[Any]:
    """What a client written against the vendor's page reads at `path` (every item for `meta.images[]`)."""
    found = [token]
    for part in path.split("."):
        found = [item[part.removesuffix("[]")] for item in found]  # a KeyError is the client breaking
        if part.endswith("[]"):
            found = [entry for items in found for entry in items]
    return found


class TestVendorShape:
    """A client written against the vendor's "Get Token Details" page (its fields, types and example values, kept in
    tests/data/vendor/tokenization-get-token.md) works unchanged against the mock."""

    async def test_every_documented_field_with_its_type(self, client: ApiClient) -> None:
        token = await details(client)
        fields = tokenization_get_token_fields()

        assert len(fields) >= 15
        for field in fields:
            if field.only_on_another_page and field.path.split(".")[-1] not in token["value"]:
                continue
            values = vendor_read(token, field.path)
            assert values, field.path
            for value in values:
                assert isinstance(value, JSON_TYPES[field.kind]), (field.path, value)
                assert not isinstance(value, bool) or field.kind == "boolean", (field.path, value)
                for key in field.keys:
                    assert key in value, f"{field.path}.{key}"
        image = token["meta"]["images"][0]
        assert re.fullmatch(r"[0-9a-f]{64}", image["hash"])
        assert datetime.fromisoformat(image["created_at"])
        assert image["deleted_at"] is None

    async def test_the_pages_example_values(self, client: ApiClient) -> None:
        token = await details(client)

        for field in tokenization_get_token_fields():
            if field.example is None or field.only_on_another_page:
                continue
            # The page abbreviates objects with `...`: what it shows must match.
            shown = json.loads(field.example.replace(", ...}", "}")) if field.example.startswith("{") \
                else json.loads(field.example) if field.kind != "string" else field.example
            value = vendor_read(token, field.path)[0]
            if isinstance(shown, dict):
                assert {key: value[key] for key in shown} == shown, field.path
            else:
                assert value == shown, field.path

    async def test_a_client_reads_back_the_vendors_update_example(self, client: ApiClient) -> None:
        """The fields of the "Update Token" example, read back where the reference's last paragraph puts them."""
        picture, document = media.png(3, 3), media.pdf("document")
        body = (Multipart().fields({"name": "TKN Token Name Updated", "description": "Token Description",
                                    "total_value": "12000", "currency_token_id": USDT, "salable_percentage": "80",
                                    "remove_image_ids": "", "remove_document_ids": "",
                                    "oracle_id": "677ed6e3cc111aea14a3dfc3", "oracle_code": "IOG"})
                .file("images", "image.png", picture, "image/png")
                .file("documents", "document.pdf", document, "application/pdf"))

        assert (await put(client, body)).status_code == 200
        token = await details(client)

        total = token["value"]["total_value"]
        assert (total["amount"], total["symbol"], total["decimal"], total["id"]) == (12000, "USDT", 6, USDT)
        assert token["value"]["salable_percentage"] == 80
        added_image, added_document = token["meta"]["images"][-1], token["meta"]["documents"][-1]
        assert added_image["hash"] == hashlib.sha256(picture).hexdigest()
        assert (added_document["name"], added_document["hash"]) == ("document.pdf",
                                                                    hashlib.sha256(document).hexdigest())
        assert (await client.get(added_image["url"])).content == picture


class TestUpdate:
    """PUT answers 200 with an empty body; GET shows every change."""

    async def test_all_fields(self, client: ApiClient, clock: ManualClock) -> None:
        clock.advance(120)
        body = form(total_value="12000", currency_token_id="aaaaaaaaaaaaaaaaaaaaaaaa", salable_percentage="80.5",
                    oracle_id="bbbbbbbbbbbbbbbbbbbbbbbb", oracle_code="XAU")

        response = await put(client, body)
        token = await details(client)

        assert response.status_code == 200
        assert response.content == b""
        assert token["name"] == "Renamed"
        assert token["description"] == "Described"
        # A currency the server does not know: its id is kept, its symbol, decimal and address are unknown.
        unknown = {"id": "aaaaaaaaaaaaaaaaaaaaaaaa", "decimal": None, "symbol": None, "address": None}
        assert token["value"]["total_value"] == {**unknown, "amount": 12000}
        assert token["value"]["token_price"] == {**unknown, "amount": 30}
        assert token["value"]["salable_percentage"] == 80.5
        assert token["oracle"] == {"id": "bbbbbbbbbbbbbbbbbbbbbbbb", "code": "XAU"}
        assert token["updated_at"] == "2026-01-01T00:02:00.000000Z"
        assert token["created_at"] == "2026-01-01T00:00:00.000000Z"

    async def test_optional_fields_not_sent_keep_their_values(self, client: ApiClient) -> None:
        await put(client, form())
        token = await details(client)

        assert token["value"]["total_value"]["amount"] == 12000
        assert token["value"]["salable_percentage"] == 60
        assert token["value"]["total_value"]["id"] == token["value"]["token_price"]["id"] == USDT
        assert token["value"]["total_value"]["symbol"] == "USDT"
        assert len(token["meta"]["images"]) == 1

    async def test_other_tokens_are_untouched(self, client: ApiClient) -> None:
        await put(client, form())

        assert (await details(client, TKN_OTHER_TOKEN))["name"] == "Harbour Warehouse"

    async def test_zero_and_bounds_are_allowed(self, client: ApiClient) -> None:
        response = await put(client, form(total_value="0", salable_percentage="100"))
        token = await details(client)

        assert response.status_code == 200
        assert token["value"]["total_value"]["amount"] == 0
        assert token["value"]["salable_percentage"] == 100

    async def test_added_files_are_listed_and_served(self, client: ApiClient) -> None:
        picture, animation, document = media.png(4, 4, colour=(9, 9, 9)), media.gif(), media.pdf("annual report")
        body = (form().file("images", "photo.png", picture, "image/png")
                .file("images", "anim.gif", animation, "image/gif")
                .file("documents", "report.pdf", document, "application/pdf"))

        assert (await put(client, body)).status_code == 200
        token = await details(client)

        images = {a["hash"]: a for a in token["meta"]["images"]}
        documents = {a["name"]: a for a in token["meta"]["documents"]}
        sha = {data: hashlib.sha256(data).hexdigest() for data in (picture, animation, document)}
        assert set(images) == {token["meta"]["images"][0]["hash"], sha[picture], sha[animation]}
        assert set(documents) == {"prospectus.pdf", "report.pdf"}
        assert documents["report.pdf"]["hash"] == sha[document]
        for attachment, data, media_type in ((images[sha[picture]], picture, "image/png"),
                                             (images[sha[animation]], animation, "image/gif"),
                                             (documents["report.pdf"], document, "application/pdf")):
            served = await client.get(attachment["url"])
            assert served.content == data
            assert served.headers["content-type"] == media_type
            assert len(attachment["id"]) == 24
            assert (attachment["created_at"], attachment["deleted_at"]) == ("2026-01-01T00:00:00.000000Z", None)
        assert [image["is_default"] for image in token["meta"]["images"]] == [True, False, False]
        assert documents["report.pdf"]["type"] == 1

    async def test_first_image_left_becomes_the_default(self, client: ApiClient) -> None:
        await put(client, form(remove_image_ids=TKN_IMAGE_ID).file("images", "a.png", media.png(1), "image/png"))

        images = (await details(client))["meta"]["images"]
        assert [(image["hash"], image["is_default"]) for image in images] == [
            (hashlib.sha256(media.png(1)).hexdigest(), True)]

    async def test_file_without_declared_type_is_judged_by_content(self, client: ApiClient) -> None:
        body = form().file("images", "upload", media.png(2, 2)).file("documents", "doc", media.pdf(), None)

        assert (await put(client, body)).status_code == 200
        token = await details(client)

        served = [await client.get(a["url"]) for a in token["meta"]["images"] + token["meta"]["documents"]]
        assert [response.headers["content-type"] for response in served] == ["image/png"] * 2 + ["application/pdf"] * 2

    async def test_remove_attachments(self, client: ApiClient) -> None:
        response = await put(client, form(remove_image_ids=TKN_IMAGE_ID, remove_document_ids=TKN_DOCUMENT_ID))
        token = await details(client)

        assert response.status_code == 200
        assert token["meta"] == {"images": [], "documents": []}

    async def test_remove_added_attachments_by_their_ids(self, client: ApiClient) -> None:
        await put(client, form().file("images", "a.png", media.png(1), "image/png")
                  .file("images", "b.png", media.png(2), "image/png"))
        added = [a["id"] for a in (await details(client))["meta"]["images"][1:]]

        await put(client, form(remove_image_ids=",".join([TKN_IMAGE_ID, added[0].upper()])))
        left = (await details(client))["meta"]["images"]

        assert [a["id"] for a in left] == [added[1]]

    async def test_empty_removal_lists_remove_nothing(self, client: ApiClient) -> None:
        await put(client, form(remove_image_ids="", remove_document_ids=""))
        token = await details(client)

        assert len(token["meta"]["images"]) == len(token["meta"]["documents"]) == 1

    async def test_both_bearer_tokens_work(self, client: ApiClient) -> None:
        response = await put(client, form(), headers=tkn_headers(TKN_SEED_BEARER))

        assert response.status_code == 200


class TestAuth:
    """A missing, malformed or unknown bearer token is 401."""

    @pytest.mark.parametrize(
        ("headers", "words"),
        [
            ({}, ("Missing Authorization", "Bearer <token>")),
            ({"authorization": "Bearer nope"}, ("Invalid bearer token",)),
            ({"authorization": "Basic dGtuOmFkbWlu"}, ("Malformed Authorization", "Bearer <token>")),
            ({"authorization": "Bearer"}, ("Malformed Authorization", "Bearer <token>")),
            ({"authorization": "tkn-admin-token"}, ("Malformed Authorization", "Bearer <token>")),
        ],
    )
    async def test_put_and_get(self, client: ApiClient, app: MockApp, headers: dict[str, str],
                               words: tuple[str, ...]) -> None:
        update = await rejected_without_change(app, put(client, form(), headers=headers))
        read = await client.get(TKN_PATH, headers=headers)

        assert_error(update, 401, *words)
        assert_error(read, 401, *words)


class TestNotFound:
    """An id of 24 hex digits naming no token is 404; anything else is 400."""

    async def test_unknown_token(self, client: ApiClient, app: MockApp) -> None:
        path = "/v2/admin/token/" + "f" * 24

        update = await rejected_without_change(app, put(client, form(), path=path))
        read = await client.get(path, headers=tkn_headers())

        assert_error(update, 404, "f" * 24, "not found", field="token_id")
        assert_error(read, 404, "f" * 24, field="token_id")

    @pytest.mark.parametrize(
        "token_id",
        ["67d8774e903bfcbe7eb5d93", "67d8774e903bfcbe7eb5d93e0", "z" * 24, "67d8774e903bfcbe7eb5d93e%0A"],
    )
    async def test_malformed_id(self, client: ApiClient, app: MockApp, token_id: str) -> None:
        path = f"/v2/admin/token/{token_id}"

        update = await rejected_without_change(app, put(client, form(), path=path))
        read = await client.get(path, headers=tkn_headers())

        assert_error(update, 400, "token_id", field="token_id")
        assert_error(read, 400, "token_id", field="token_id")


class TestValidation:
    """Each rule of the form is a 400 naming the field, and nothing is stored."""

    @pytest.mark.parametrize(
        ("body", "field", "words"),
        [
            (Multipart().field("description", "d"), "name", ("name", "required")),
            (Multipart().field("name", "n"), "description", ("description", "required")),
            (form(name=""), "name", ("non-empty",)),
            (form(description=""), "description", ("non-empty",)),
            (form(total_value="-1"), "total_value", ("minimum",)),
            (form(total_value="lots"), "total_value", ("wrong type", "lots")),
            (form(total_value="inf"), "total_value", ("finite",)),
            (form(total_value="Infinity"), "total_value", ("finite",)),
            (form(total_value="nan"), "total_value", ("finite",)),
            (form(total_value="1e999"), "total_value", ("finite",)),
            (form(salable_percentage="nan"), "salable_percentage", ("finite",)),
            (form(salable_percentage="inf"), "salable_percentage", ("maximum",)),
            (form(salable_percentage="-inf"), "salable_percentage", ("minimum",)),
            (form(salable_percentage="100.01"), "salable_percentage", ("maximum",)),
            (form(salable_percentage="-0.5"), "salable_percentage", ("minimum",)),
            (form(currency_token_id="68fe8c129367fd414b227c7"), "currency_token_id", ("does not match",)),
            (form(currency_token_id="68fe8c129367fd414b227c7a\n"), "currency_token_id", ("does not match",)),
            (form(oracle_id="677ed6e3cc111aea14a3dfc3\n"), "oracle_id", ("does not match",)),
            (form(oracle_id="oracle"), "oracle_id", ("does not match",)),
            (form(remove_image_ids="xyz"), "remove_image_ids", ("does not match",)),
            (form(remove_image_ids=TKN_IMAGE_ID + "\n"), "remove_image_ids", ("does not match",)),
            (form(remove_image_ids=f"{TKN_IMAGE_ID},"), "remove_image_ids", ("does not match",)),
            (form(remove_image_ids="a" * 24), "remove_image_ids", ("a" * 24, "not among the images")),
            (form(remove_image_ids=TKN_DOCUMENT_ID), "remove_image_ids", (TKN_DOCUMENT_ID, "images")),
            (form(remove_document_ids=TKN_IMAGE_ID), "remove_document_ids", (TKN_IMAGE_ID, "documents")),
            (form(colour="red"), None, ("colour",)),
            (form().field("name", "twice"), "name", ("2 times",)),
            (form(images="not a file"), "images", ("file upload",)),
            (form().file("oracle_code", "code.txt", b"IOG", "text/plain"), "oracle_code", ("text field",)),
        ],
    )
    async def test_rule(self, client: ApiClient, app: MockApp, body: Multipart, field: str | None,
                        words: tuple[str, ...]) -> None:
        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 400, *words, field=field)

    async def test_removal_is_all_or_nothing(self, client: ApiClient, app: MockApp) -> None:
        body = form(remove_image_ids=f"{TKN_IMAGE_ID},{'c' * 24}").file("images", "new.png", media.png(), "image/png")

        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 400, "c" * 24, field="remove_image_ids")
        assert [a["id"] for a in (await details(client))["meta"]["images"]] == [TKN_IMAGE_ID]


class TestMediaTypes:
    """Images must be PNG, JPEG, WebP or GIF and documents PDF, by content and by declared type: else 415."""

    @pytest.mark.parametrize(
        ("field", "filename", "data", "declared", "words"),
        [
            ("images", "cover.png", media.png(), "text/plain", ("cover.png", "declared as text/plain")),
            ("images", "notes.txt", media.text(), "image/png", ("notes.txt", "no recognised type")),
            ("images", "notes.txt", media.text(), None, ("notes.txt", "no recognised type")),
            ("images", "doc.pdf", media.pdf(), "application/pdf", ("doc.pdf", "application/pdf")),
            ("images", "song.mp3", media.mp3(), "image/png", ("song.mp3", "audio/mpeg")),
            ("documents", "cover.png", media.png(), "image/png", ("cover.png", "image/png", "PDF")),
            ("documents", "fake.pdf", media.text(), "application/pdf", ("fake.pdf", "no recognised type")),
            ("documents", "doc.pdf", media.pdf(), "image/png", ("doc.pdf", "declared as image/png")),
        ],
    )
    async def test_wrong_type(self, client: ApiClient, app: MockApp, field: str, filename: str, data: bytes,
                              declared: str | None, words: tuple[str, ...]) -> None:
        body = form().file(field, filename, data, declared)

        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 415, *words, field=field)

    async def test_one_bad_file_rejects_the_good_ones_too(self, client: ApiClient, app: MockApp) -> None:
        body = (form(name="Should not stick").file("images", "good.png", media.png(7, 7), "image/png")
                .file("documents", "bad.pdf", media.png(), "application/pdf"))

        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 415, "bad.pdf")
        assert (await details(client))["name"] == "TKN Token Name"


class TestSizeLimits:
    """A file over the per-file limit, or a request over the total limit, is 413 and stores nothing."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"tokenization.max_file_bytes": 1500, "tokenization.max_request_bytes": 4000}

    async def test_file_over_size(self, client: ApiClient, app: MockApp) -> None:
        body = form().file("images", "big.png", media.png(20, 20, colour=(5, 6, 7)) + b"\0" * 2000, "image/png")

        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 413, "big.png", "1500 byte", field="images")

    async def test_file_at_the_limit_is_accepted(self, client: ApiClient) -> None:
        data = media.png(1, 1) + b"\0" * (1500 - len(media.png(1, 1)))

        assert (await put(client, form().file("images", "edge.png", data, "image/png"))).status_code == 200

    async def test_request_over_total(self, client: ApiClient, app: MockApp) -> None:
        body = form()
        for n in range(4):
            body.file("images", f"{n}.png", media.png(n + 1) + b"\0" * 1000, "image/png")

        response = await rejected_without_change(app, put(client, body))

        assert_error(response, 413, "4000 bytes")


class TestBearerScheme:
    """`Authorization: Bearer` in any case (RFC 9110); no scheme, or another one, is 401."""

    @pytest.mark.parametrize(("authorization", "status"), [
        ("Bearer tkn-admin-token", 200), ("bearer tkn-admin-token", 200), ("BEARER tkn-admin-token", 200),
        ("tkn-admin-token", 401), ("Basic tkn-admin-token", 401),
    ])
    async def test_get_and_put(self, client: ApiClient, authorization: str, status: int) -> None:
        body = Multipart().fields({"name": "Cased", "description": "d"})

        read = await client.get(TKN_PATH, headers={"Authorization": authorization})
        update = await client.put(TKN_PATH, **body.request_kwargs({"Authorization": authorization}))

        assert (read.status_code, update.status_code) == (status, status)
        if status == 401:
            assert update.json()["field"] == "Authorization"
