"""Bad input of every kind gets the API's own 4xx, a message naming the problem, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockserver.web import MockApp
from mockserver.web.validation import SIZED_BODY_LENGTH
from tests.mockserver import media
from tests.mockserver.support import (
    IMX_BASE,
    IMX_CHAIN,
    IMX_COLLECTION,
    IMX_REFRESH,
    RAIR_CONTRACT,
    RAIR_NETWORK,
    RAIR_TOKEN_PATH,
    SPELLINGS,
    TKN_PATH,
    TKN_TOKEN,
    ApiClient,
    Multipart,
    assert_error,
    imx_headers,
    nft_item,
    rair_headers,
    refresh_body,
    refresh_near_item_limit,
    refresh_near_list_limit,
    rejected_without_change,
    tkn_headers,
)

pytestmark = pytest.mark.anyio

# The two multipart operations, each with a minimal valid form.
MULTIPART_APIS = {
    "rair": ("POST", RAIR_TOKEN_PATH, rair_headers(), {"name": "x"}),
    "tokenization": ("PUT", TKN_PATH, tkn_headers(), {"name": "x", "description": "y"}),
}

Send = Callable[[ApiClient], Any]


def raw(api: str, content: bytes | None, content_type: str | None, **extra: str) -> Send:
    method, path, headers, _ = MULTIPART_APIS[api]
    all_headers = {**headers, **extra}
    if content_type is not None:
        all_headers["content-type"] = content_type

    def send(client: ApiClient) -> Any:
        return client.request(method, path, content=content, headers=all_headers)

    return send


def multipart(api: str, build: Callable[[Multipart], Multipart]) -> Send:
    method, path, headers, valid = MULTIPART_APIS[api]
    body = build(Multipart().fields(valid))

    def send(client: ApiClient) -> Any:
        return client.request(method, path, **body.request_kwargs(headers))

    return send


BOUNDARY = Multipart().boundary
TRUNCATED = Multipart().fields({"name": "x", "description": "y"}).body()[:-12]


def multipart_cases() -> list[Any]:
    cases = []
    for api in MULTIPART_APIS:
        cases += [
            pytest.param(api, raw(api, b"this is not multipart at all", f"multipart/form-data; boundary={BOUNDARY}"),
                         400, ("Malformed multipart/form-data body",), id=f"{api}-garbage"),
            pytest.param(api, raw(api, TRUNCATED, f"multipart/form-data; boundary={BOUNDARY}"),
                         400, ("Malformed multipart", "truncated"), id=f"{api}-truncated"),
            pytest.param(api, raw(api, Multipart().field("name", "x").body(), "multipart/form-data"),
                         400, ("boundary",), id=f"{api}-no-boundary"),
            pytest.param(api, raw(api, Multipart().field("name", "x").body(), None),
                         400, ("Content-Type",), id=f"{api}-no-content-type"),
            pytest.param(api, raw(api, json.dumps({"name": "x"}).encode(), "application/json"),
                         415, ("application/json", "multipart/form-data"), id=f"{api}-json-body"),
            pytest.param(api, raw(api, b"name=x&description=y", "application/x-www-form-urlencoded"),
                         415, ("x-www-form-urlencoded",), id=f"{api}-urlencoded"),
            pytest.param(api, raw(api, b"", f"multipart/form-data; boundary={BOUNDARY}"),
                         400, ("required",), id=f"{api}-empty-body"),
            pytest.param(api, multipart(api, lambda m: m.field("name", "x" * (2 * 1024 * 1024))),
                         400, ("maximum size",), id=f"{api}-huge-text-field"),
            pytest.param(api, multipart(api, lambda m: m.field("favourite_colour", "red")),
                         400, ("favourite_colour",), id=f"{api}-unknown-field"),
            pytest.param(api, multipart(api, lambda m: m.field("name", "again")),
                         400, ("name", "2 times"), id=f"{api}-field-twice"),
            pytest.param(api, multipart(api, lambda m: m.file("description", "d.txt", b"text", "text/plain")),
                         400, ("description", "text field"), id=f"{api}-file-for-text"),
        ]
    deep = "[" * 100 + "]" * 100
    cases += [
        pytest.param("rair", multipart("rair", lambda m: m.field("attributes", f'[{{"trait_type": "a", "value": '
                                                                              f'{deep}}}]')),
                     400, ("attributes", "64 levels deep"), id="rair-deep-json-part"),
        pytest.param("rair", multipart("rair", lambda m: m.field("attributes", "[" * 100_000 + "]" * 100_000)),
                     400, ("attributes", "64 levels deep"), id="rair-json-part-deeper-than-the-parser-goes"),
        pytest.param("rair", multipart("rair", lambda m: m.field("files", "cover.png")),
                     400, ("files", "file upload"), id="rair-text-for-file"),
        pytest.param("tokenization", multipart("tokenization", lambda m: m.field("documents", "doc.pdf")),
                     400, ("documents", "file upload"), id="tokenization-text-for-file"),
    ]
    return cases


class TestMultipart:
    """Broken or misused multipart bodies are answered in the API's own error shape."""

    @pytest.mark.parametrize(("api", "send", "status", "words"), multipart_cases())
    async def test_bad_body(self, client: ApiClient, app: MockApp, api: str, send: Send, status: int,
                            words: tuple[str, ...]) -> None:
        response = await rejected_without_change(app, send(client))

        assert_error(response, status, *words)

    @pytest.mark.parametrize("api", MULTIPART_APIS)
    @pytest.mark.parametrize(("field", "value", "offset"), [
        pytest.param("name", b"caf\xe9", 3, id="latin-1"),
        pytest.param("description", b"ok \xc3", 3, id="cut-off-sequence"),
        pytest.param("name", b"\xff", 0, id="invalid-byte"),
    ])
    async def test_text_field_not_utf8_is_400_naming_it(self, client: ApiClient, app: MockApp, api: str, field: str,
                                                        value: bytes, offset: int) -> None:
        method, path, headers, valid = MULTIPART_APIS[api]
        body = Multipart().fields({name: text for name, text in valid.items() if name != field}).field(field, value)

        response = await rejected_without_change(app, client.request(method, path, **body.request_kwargs(headers)))

        message = assert_error(response, 400, field, "not UTF-8", f"byte {offset}", field=field)
        assert "\ufffd" not in str(message)

    @pytest.mark.parametrize(("api", "field"), [("rair", "files"), ("tokenization", "images")])
    async def test_file_name_not_utf8_is_400_naming_the_field(self, client: ApiClient, app: MockApp, api: str,
                                                              field: str) -> None:
        method, path, headers, valid = MULTIPART_APIS[api]
        body = Multipart().fields(valid)
        body.parts.append(f'Content-Disposition: form-data; name="{field}"; filename="caf'.encode()
                          + b'\xe9.png"\r\nContent-Type: image/png\r\n\r\n' + media.png(8, 8))

        response = await rejected_without_change(app, client.request(method, path, **body.request_kwargs(headers)))

        assert_error(response, 400, field, "file name is not UTF-8", "byte 3", field=field)

    async def test_file_name_in_utf8_beyond_ascii_is_kept(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "x", "description": "y"})
        body.parts.append('Content-Disposition: form-data; name="documents"; filename="Café ✓ 𝄞.pdf"\r\n'
                          'Content-Type: application/pdf\r\n\r\n'.encode() + media.pdf())

        response = await client.put(TKN_PATH, **body.request_kwargs(tkn_headers()))
        token = (await client.get(TKN_PATH, headers=tkn_headers())).json()

        assert response.status_code == 200, response.text
        assert token["meta"]["documents"][-1]["name"] == "Café ✓ 𝄞.pdf"

    # Starlette decodes names and text in a declared charset (an unknown one as Latin-1), where some decode bytes
    # that are not UTF-8 to plain ASCII: a file name b"a\xa0b.png" in mac_arabic reads "a b.png".
    @pytest.mark.parametrize("charset", ["mac_arabic", "cp037", "latin-1", "us-ascii", "no-such-charset", "utf-8\0"])
    @pytest.mark.parametrize("api", ["rair", "tokenization"])
    async def test_a_declared_charset_other_than_utf8_is_400(self, client: ApiClient, app: MockApp, api: str,
                                                            charset: str) -> None:
        method, path, headers, valid = MULTIPART_APIS[api]
        field = "files" if api == "rair" else "images"
        body = Multipart().fields(valid)
        body.parts.append(f'Content-Disposition: form-data; name="{field}"; filename="a'.encode()
                          + b'\xa0b.png"\r\nContent-Type: image/png\r\n\r\n' + media.png(8, 8))
        kwargs = body.request_kwargs(headers)
        kwargs["headers"]["content-type"] += f"; charset={charset}"

        response = await rejected_without_change(app, client.request(method, path, **kwargs))

        assert_error(response, 400, "charset", repr(charset)[1:-1], "UTF-8")

    @pytest.mark.parametrize("charset", ["utf-8", "UTF8", '"utf_8"'])
    async def test_a_declared_utf8_charset_is_fine(self, client: ApiClient, charset: str) -> None:
        body = Multipart().fields({"name": "Café", "description": "y"})
        kwargs = body.request_kwargs(tkn_headers())
        kwargs["headers"]["content-type"] += f"; charset={charset}"

        response = await client.put(TKN_PATH, **kwargs)
        token = (await client.get(TKN_PATH, headers=tkn_headers())).json()

        assert response.status_code == 200, response.text
        assert token["name"] == "Café"

    async def test_rair_json_part_not_utf8_is_400_naming_it(self, client: ApiClient, app: MockApp) -> None:
        body = Multipart().field("attributes", b'[{"trait_type": "Colour", "value": "Ros\xe9"}]')

        response = await rejected_without_change(app, client.post(RAIR_TOKEN_PATH, **body.request_kwargs(
            rair_headers())))

        assert_error(response, 400, "attributes", "not UTF-8", field="attributes")

    async def test_utf8_split_across_chunks_is_text(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "Café ✓ 𝄞", "description": "naïve"}).body()

        async def one_byte_at_a_time() -> Any:
            for position in range(len(body)):
                yield body[position:position + 1]

        response = await client.put(TKN_PATH, content=one_byte_at_a_time(),
                                    headers={**tkn_headers(), "content-type": Multipart().content_type})
        token = (await client.get(TKN_PATH, headers=tkn_headers())).json()

        assert response.status_code == 200, response.text
        assert (token["name"], token["description"]) == ("Café ✓ 𝄞", "naïve")

    async def test_well_formed_body_with_an_epilogue_is_fine(self, client: ApiClient) -> None:
        body = Multipart().fields({"name": "x", "description": "y"})
        content = body.body() + b"\r\nepilogue that parsers ignore\r\n"

        response = await client.put(TKN_PATH, content=content,
                                    headers={**tkn_headers(), "content-type": body.content_type})

        assert response.status_code == 200


RAIR_BASE = f"/api/nft/network/{RAIR_NETWORK}/{RAIR_CONTRACT}"


class TestRairPath:
    """Path parameters of the wrong type or form are 400 naming the parameter, for GET and POST alike."""

    @pytest.mark.parametrize(
        ("path", "words"),
        [
            (f"{RAIR_BASE}/abc/token/1", ("product", "'abc'", "not an integer")),
            (f"{RAIR_BASE}/0/token/one", ("token", "'one'", "not an integer")),
            (f"{RAIR_BASE}/0/token/1.5", ("token", "'1.5'", "not an integer")),
            (f"{RAIR_BASE}/-1/token/1", ("product", "minimum")),
            (f"{RAIR_BASE}/0/token/-3", ("token", "minimum")),
            (f"/api/nft/network/89/{RAIR_CONTRACT}/0/token/1", ("networkId", "'89'")),
            (f"/api/nft/network/0xZZ/{RAIR_CONTRACT}/0/token/1", ("networkId", "'0xZZ'")),
            (f"/api/nft/network/{RAIR_NETWORK}/0x1234/0/token/1", ("contract", "'0x1234'")),
            (f"/api/nft/network/{RAIR_NETWORK}/{RAIR_CONTRACT}%0A/0/token/1", ("contract",)),
            (f"{RAIR_BASE}/0/token/{'9' * 5000}", ("token", "5000-digit")),  # more than Python's int() takes
        ],
    )
    async def test_bad_path(self, client: ApiClient, app: MockApp, path: str, words: tuple[str, ...]) -> None:
        read = await client.get(path, headers=rair_headers())
        update = await rejected_without_change(
            app, client.post(path, **Multipart().field("name", "x").request_kwargs(rair_headers()))
        )

        assert_error(read, 400, *words)
        assert_error(update, 400, *words)


IMX_NFTS = f"/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/nfts"
TKN_TOKEN_PATH = "/v2/admin/token/"


class TestNonCanonicalPathIds:
    """An id spelled another way (`+1`, `01`, ` 1`) is 400 naming the parameter, never read or updated as the token
    it would convert to, on the fast path and through Connexion alike."""

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize(("path", "name"), [
        (f"{RAIR_BASE}/0/token/+1", "token"),
        (f"{RAIR_BASE}/0/token/01", "token"),
        (f"{RAIR_BASE}/0/token/00", "token"),
        (f"{RAIR_BASE}/0/token/-0", "token"),
        (f"{RAIR_BASE}/+0/token/1", "product"),
        (f"{RAIR_BASE}/00/token/1", "product"),
        (f"{RAIR_BASE}/0/token/%201", "token"),
    ])
    async def test_rair(self, app_for: Any, fast_path: bool, path: str, name: str) -> None:
        app = app_for({"fast_path": fast_path})
        async with ApiClient(app) as client:
            read = await client.get(path, headers=rair_headers())
            update = await rejected_without_change(
                app, client.post(path, **Multipart().field("name", "Renamed").request_kwargs(rair_headers())))

        assert_error(read, 400, name, "Invalid path parameter")
        assert_error(update, 400, name, "Invalid path parameter")

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize("token_id", ["+1", "01", "%201", "1%20", "-0"])
    async def test_immutable(self, app_for: Any, fast_path: bool, token_id: str) -> None:
        async with ApiClient(app_for({"fast_path": fast_path})) as client:
            read = await client.get(f"{IMX_NFTS}/{token_id}")

        assert_error(read, 400, "token_id", "uint256", field="token_id")

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize("token_id", [f"+{TKN_TOKEN[1:]}", f"%20{TKN_TOKEN}", f"{TKN_TOKEN}%20", f"0{TKN_TOKEN}"])
    async def test_tokenization(self, app_for: Any, fast_path: bool, token_id: str) -> None:
        app = app_for({"fast_path": fast_path})
        body = Multipart().fields({"name": "Renamed", "description": "d"})
        async with ApiClient(app) as client:
            read = await client.get(TKN_TOKEN_PATH + token_id, headers=tkn_headers())
            update = await rejected_without_change(
                app, client.put(TKN_TOKEN_PATH + token_id, **body.request_kwargs(tkn_headers())))

        assert_error(read, 400, "token_id", field="token_id")
        assert_error(update, 400, "token_id", field="token_id")


def refresh_raw(content: bytes, content_type: str = "application/json") -> Send:
    def send(client: ApiClient) -> Any:
        return client.post(IMX_REFRESH, content=content, headers={**imx_headers(), "content-type": content_type})

    return send


def refresh_json(body: Any) -> Send:
    return refresh_raw(json.dumps(body).encode())


def items(count: int, **metadata: Any) -> dict[str, Any]:
    return refresh_body(*[str(n) for n in range(count)], **metadata)


class TestImmutableBody:
    """Every refresh body rule is 400 VALIDATION_ERROR with `details` naming the field; no quota is spent."""

    @pytest.mark.parametrize(
        ("send", "field", "words"),
        [
            pytest.param(refresh_raw(b'{"nft_metadata": "\xff\xfe"}'), "body", ("UTF-8",), id="non-utf8"),
            pytest.param(refresh_raw(b'{"nft_metadata": ['), "body", ("not valid JSON", "line 1"), id="invalid-json"),
            pytest.param(refresh_raw(b"{'nft_metadata': []}"), "body", ("not valid JSON",), id="single-quotes"),
            pytest.param(refresh_raw(b'{"nft_metadata": NaN}'), "body", ("NaN",), id="nan"),
            pytest.param(refresh_raw(b'{"nft_metadata": [{"token_id": "1", "name": null, "description": null, '
                                     b'"image": null, "external_url": null, "animation_url": null, '
                                     b'"youtube_url": null, "attributes": [{"trait_type": "a", "value": Infinity}]}]}'),
                         "body", ("Infinity",), id="infinity"),
            pytest.param(refresh_raw(b'{"nft_metadata": [{"token_id": "1", "name": null, "description": null, '
                                     b'"image": null, "external_url": null, "animation_url": null, '
                                     b'"youtube_url": null, "attributes": [{"trait_type": "a", "value": 1e400}]}]}'),
                         "body", ("1e400", "out of range"), id="number-overflow"),
            pytest.param(refresh_raw(b""), "body", ("required",), id="empty"),
            pytest.param(refresh_raw(b'{"nft_metadata": ' + b"[" * 65 + b"]" * 65 + b"}"), "body",
                         ("64 levels deep",), id="too-deep"),
            pytest.param(refresh_raw(b'{"nft_metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "body",
                         ("64 levels deep",), id="deeper-than-the-parser-goes"),
            pytest.param(refresh_raw(b"[]"), "body", ("not of type 'object'",), id="array-body"),
            pytest.param(refresh_raw(json.dumps(refresh_body("1")).encode(), "text/plain"), "Content-Type",
                         ("text/plain", "application/json"), id="text-plain"),
            pytest.param(refresh_raw(b'{"nft_metadata": [' + b" " * (1024 * 1024) + b"]}"), "body",
                         ("larger than",), id="over-body-cap"),
            pytest.param(refresh_json({}), "nft_metadata", ("required",), id="no-list"),
            pytest.param(refresh_json({"nft_metadata": {}}), "nft_metadata", ("array",), id="list-is-object"),
            pytest.param(refresh_json({"nft_metadata": []}), "nft_metadata", ("0 items", "at least 1"), id="0-items"),
            pytest.param(refresh_json(items(251)), "nft_metadata", ("251 items", "at most 250"), id="251-items"),
            pytest.param(refresh_json(refresh_body("7", "7")), "nft_metadata.1.token_id",
                         ("token_id 7", "twice"), id="duplicate-7"),
            pytest.param(refresh_json(refresh_body("1", "2", "1")), "nft_metadata.2.token_id",
                         ("nft_metadata[0]", "nft_metadata[2]"), id="duplicate-later"),
            pytest.param(refresh_json(refresh_body(str(2**256))), "nft_metadata.0.token_id",
                         ("uint256",), id="2^256"),
            pytest.param(refresh_json(refresh_body("1\n")), "nft_metadata.0.token_id", ("uint256",), id="newline"),
            pytest.param(refresh_json(refresh_body("07")), "nft_metadata.0.token_id", ("uint256",), id="leading-0"),
            pytest.param(refresh_json(refresh_body("-1")), "nft_metadata.0.token_id", ("uint256",), id="negative"),
            pytest.param(refresh_json(refresh_body("")), "nft_metadata.0.token_id", ("uint256",), id="empty-id"),
            pytest.param(refresh_json(refresh_body("1.0")), "nft_metadata.0.token_id", ("uint256",), id="decimal"),
            pytest.param(refresh_json({"nft_metadata": [{**nft_item("1"), "token_id": 1}]}),
                         "nft_metadata.0.token_id", ("not of type 'string'",), id="integer-id"),
            pytest.param(refresh_json(refresh_body("1", description="d" * 17000)), "nft_metadata.0",
                         ("16 KiB",), id="item-over-16KiB"),
            pytest.param(refresh_json(items(20, description="d" * 12000)), "nft_metadata",
                         ("228 KiB",), id="list-over-228KiB"),
            pytest.param(refresh_json({"nft_metadata": [{k: v for k, v in nft_item("1").items()
                                                         if k != "youtube_url"}]}),
                         "nft_metadata.0.youtube_url", ("youtube_url", "required"), id="missing-key"),
            pytest.param(refresh_json(refresh_body("1", name=7)), "nft_metadata.0.name", ("string",), id="name-int"),
            pytest.param(refresh_json(refresh_body("1", attributes=[{"trait_type": "a"}])),
                         "nft_metadata.0.attributes.0.value", ("required",), id="attribute-no-value"),
            pytest.param(refresh_json(refresh_body("1", attributes=[{"trait_type": "a", "value": "b",
                                                                     "display_type": "colour"}])),
                         "nft_metadata.0.attributes.0.display_type", ("colour",), id="bad-display-type"),
            pytest.param(refresh_json(refresh_body("1", attributes="many")), "nft_metadata.0.attributes",
                         ("array",), id="attributes-string"),
        ],
    )
    async def test_rule(self, client: ApiClient, app: MockApp, send: Send, field: str,
                        words: tuple[str, ...]) -> None:
        response = await rejected_without_change(app, send(client))

        assert_error(response, 400, *words, field=field)

    async def test_limits_are_inclusive(self, client: ApiClient) -> None:
        at_250 = await client.post(IMX_REFRESH, json=items(250, description=None, name=None), headers=imx_headers())
        # One item of exactly 16 KiB as compact JSON.
        item = nft_item("5", description="")
        item["description"] = "d" * (16 * 1024 - len(json.dumps(item, separators=(",", ":"))))
        at_16k = await client.post(IMX_REFRESH, json={"nft_metadata": [item]}, headers=imx_headers())

        assert at_250.status_code == 202
        assert at_16k.status_code == 202

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize("spelling", SPELLINGS)
    async def test_item_limit_counts_compact_json_however_the_item_is_written(
            self, app_for: Any, fast_path: bool, spelling: str) -> None:
        app = app_for({"fast_path": fast_path})
        async with ApiClient(app) as client:
            at_limit = await refresh_raw(refresh_near_item_limit(0, spelling))(client)
            over = await rejected_without_change(app, refresh_raw(refresh_near_item_limit(1, spelling))(client))

        assert at_limit.status_code == 202, at_limit.text
        assert_error(over, 400, "nft_metadata[0] is 16385 bytes of JSON", field="nft_metadata.0")

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    async def test_an_item_may_nest_to_the_depth_limit_and_not_past_it(self, app_for: Any, fast_path: bool) -> None:
        def nested_in_item(levels: int) -> Send:  # the body, the list and the item are three levels
            deep = "[" * levels + "]" * levels
            # Long enough to be parsed item by item, as large refreshes are.
            item = json.dumps(nft_item("1", description="d" * SIZED_BODY_LENGTH))
            item = item.replace('"attributes": []', f'"attributes": [], "x": {deep}')
            return refresh_raw(f'{{"nft_metadata": [{item}, {json.dumps(nft_item("2"))}]}}'.encode())

        app = app_for({"fast_path": fast_path})
        async with ApiClient(app) as client:
            at_limit = await nested_in_item(61)(client)
            past = await rejected_without_change(app, nested_in_item(62)(client))

        assert at_limit.status_code == 202, at_limit.text
        assert_error(past, 400, "64 levels deep", field="body")

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize("spelling", ["compact", "indented", "escaped"])
    async def test_list_limit_counts_compact_json_however_the_list_is_written(
            self, app_for: Any, fast_path: bool, spelling: str) -> None:
        app = app_for({"fast_path": fast_path})
        async with ApiClient(app) as client:
            at_limit = await refresh_raw(refresh_near_list_limit(0, spelling))(client)
            over = await rejected_without_change(app, refresh_raw(refresh_near_list_limit(1, spelling))(client))

        assert at_limit.status_code == 202, at_limit.text
        assert_error(over, 400, "nft_metadata is 233473 bytes of JSON", field="nft_metadata")


class TestJsonOnTheWire:
    """Responses are strict JSON: a stored value never turns into NaN or Infinity in a body."""

    async def test_tokenization_never_stores_non_finite(self, client: ApiClient) -> None:
        for value in ("nan", "inf", "-inf", "1e999"):
            body = Multipart().fields({"name": "x", "description": "y", "total_value": value})
            await client.put(TKN_PATH, **body.request_kwargs(tkn_headers()))

        read = await client.get(TKN_PATH, headers=tkn_headers())

        json.loads(read.text, parse_constant=lambda name: pytest.fail(f"{name} in a response body"))
        assert read.json()["value"]["total_value"]["amount"] == 12000


class TestUnknownPaths:
    """Paths outside every operation are 404 in the API's shape; wrong methods are 405."""

    @pytest.mark.parametrize(
        ("path", "words"),
        [("/api/nft/network/0x89", ("No RAIR",)), ("/v1/chains/imtbl-zkevm-testnet", ("Immutable",)),
         ("/v2/admin/tokens", ("Tokenization",))],
    )
    async def test_unknown_path(self, path: str, words: tuple[str, ...], app: MockApp) -> None:
        async with ApiClient(app, validate=False) as client:
            response = await client.get(path)

        assert_error(response, 404, *words)

    async def test_wrong_method(self, app: MockApp) -> None:
        async with ApiClient(app, validate=False) as client:
            response: httpx.Response = await client.delete(TKN_PATH, headers=tkn_headers())

        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) >= {"GET", "PUT"}
        assert response.json()["status"] == 405

    async def test_media_of_an_unknown_file_key_is_404(self, client: ApiClient) -> None:
        response = await client.get("/files/not-a-key")

        assert response.status_code == 404


class TestFileUploadsAreNotExecuted:
    """Served uploads cannot run as part of the mock's origin."""

    async def test_headers(self, client: ApiClient) -> None:
        body = (Multipart().fields({"image": "x.png"}).file("files", "x.png", media.png(), "image/png"))
        url = (await client.post(RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers()))).json()["token"]["metadata"][
            "image"]

        served = await client.get(url)

        assert served.headers["content-security-policy"] == "sandbox"
        assert served.headers["x-content-type-options"] == "nosniff"


class TestLoneSurrogates:
    """A `\\ud800` escape parses to a string no store or response can encode: 400 naming the field, not 500."""

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    async def test_immutable_refresh_is_400_naming_the_field(self, make_app: Any, fast_path: bool) -> None:
        app = make_app({"fast_path": fast_path})
        body = b'{"nft_metadata": [{"token_id": "1", "name": "\\ud800"}]}'
        async with ApiClient(app, validate=False) as client:
            before = (await client.get(f"{IMX_BASE}/1")).json()
            response = await client.post(IMX_REFRESH, content=body,
                                         headers={**imx_headers(), "content-type": "application/json"})
            after = (await client.get(f"{IMX_BASE}/1")).json()

        assert_error(response, 400, "surrogate", "nft_metadata.0.name", field="nft_metadata.0.name")
        assert after == before

    async def test_rair_json_part_is_400_naming_the_field(self, client: ApiClient, app: MockApp) -> None:
        body = Multipart().field("attributes", b'[{"trait_type": "Colour", "value": "\\udc00"}]')

        response = await rejected_without_change(app, client.post(RAIR_TOKEN_PATH, **body.request_kwargs(
            rair_headers())))

        assert_error(response, 400, "surrogate", "attributes.0.value", field="attributes")


class TestHugeIntegers:
    """A number of more digits than Python's int() takes (4,300) is 400 saying so, not a 500."""

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "connexion"])
    @pytest.mark.parametrize("padding", [0, 5000], ids=["short-body", "long-body"])
    async def test_immutable_refresh(self, make_app: Any, fast_path: bool, padding: int) -> None:
        app = make_app({"fast_path": fast_path})
        body = b'{"nft_metadata": [{"token_id": "1", "attributes": [{"trait_type": "a", "value": ' + b"9" * 5000
        body += b"}]}]" + b" " * padding + b"}"
        async with ApiClient(app, validate=False) as client:
            response = await rejected_without_change(app, client.post(
                IMX_REFRESH, content=body, headers={**imx_headers(), "content-type": "application/json"}))

        assert_error(response, 400, "integer", "4300")

    async def test_rair_json_part(self, client: ApiClient, app: MockApp) -> None:
        body = Multipart().field("attributes", b'[{"trait_type": "Colour", "value": ' + b"9" * 5000 + b"}]")

        response = await rejected_without_change(app, client.post(RAIR_TOKEN_PATH, **body.request_kwargs(
            rair_headers())))

        assert_error(response, 400, "integer", "4300")
