"""The seed documents' own examples, replayed against the mock as written."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import shlex
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from tests.mockserver import media
from tests.mockserver.support import (
    IMX_REFRESH,
    RAIR_TOKEN_PATH,
    VENDOR,
    ApiClient,
    Multipart,
    imx_headers,
    rair_headers,
    refresh_body,
)

pytestmark = pytest.mark.anyio

RAIR_SEED = VENDOR / "rair-update-token-metadata.md"
IMMUTABLE_SEED = VENDOR / "immutable-refresh-nft-metadata.md"
TOKENIZATION_SEED = VENDOR / "tokenization-update-token.txt"

# Real tiny files stand in for the paths on the seed author's disk.
LOCAL_FILES = {"image.png": media.png(2, 2, colour=(10, 20, 30)), "document.pdf": media.pdf("seed document")}


def curl_example(text: str) -> list[str]:
    """The words of the first `curl` command in a document, continuation lines joined."""
    lines = text[text.index("curl ") :].splitlines()
    command = []
    for line in lines:
        command.append(line.rstrip("\\").strip())
        if not line.rstrip().endswith("\\"):
            break
    return shlex.split(" ".join(command))


def request_from_curl(words: list[str]) -> tuple[str, str, dict[str, str], Multipart]:
    """Method, path, headers and multipart body of a curl command, as curl would send them."""
    method, path, headers, body = "GET", "", {}, Multipart()
    pairs = iter(words[1:])
    for option in pairs:
        value = next(pairs)
        if option == "--request":
            method = value
        elif option == "--url":
            path = re.sub(r"^.*baseUrl[\\}]*", "", value)  # drop the `{{baseUrl}}` placeholder (escaped in the seed)
        elif option == "--header":
            name, _, header_value = value.partition(": ")
            if name.lower() != "content-type":  # curl adds the boundary to it; the builder does too
                headers[name] = header_value
        elif option == "--form":
            name, _, field_value = value.partition("=")
            if field_value.startswith("@"):
                filename = PurePosixPath(field_value[1:]).name
                body.file(name, filename, LOCAL_FILES[filename], mimetypes.guess_type(filename)[0])
            else:
                body.field(name, field_value)
        else:  # pragma: no cover - the seed uses only the options above
            raise AssertionError(f"unexpected curl option {option}")
    return method, path, headers, body


def seed_openapi() -> dict[str, Any]:
    text = IMMUTABLE_SEED.read_text(encoding="utf-8")
    block = re.search(r"````yaml[^\n]*\n(.*?)````", text, re.S)
    assert block is not None
    spec: dict[str, Any] = yaml.safe_load(block.group(1))
    return spec


class TestTokenizationSeed:
    """The vendor's curl example runs as written: 200, empty body, every change visible in GET."""

    async def test_curl_example(self, client: ApiClient) -> None:
        method, path, headers, body = request_from_curl(curl_example(TOKENIZATION_SEED.read_text(encoding="utf-8")))
        assert (method, path) == ("PUT", "/v2/admin/token/67d8774e903bfcbe7eb5d93e")
        assert headers == {"Authorization": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."}

        response = await client.request(method, path, **body.request_kwargs(headers))
        token = (await client.get(path, headers=headers)).json()

        assert response.status_code == 200
        assert response.content == b""
        assert token["name"] == "TKN Token Name Updated"
        assert token["description"] == "Token Description"
        assert token["value"]["total_value"]["amount"] == 12000
        assert token["value"]["total_value"]["id"] == "68fe8c129367fd414b227c7a"
        assert token["value"]["salable_percentage"] == 80
        assert token["oracle"] == {"id": "677ed6e3cc111aea14a3dfc3", "code": "IOG"}
        images = {a["hash"]: a for a in token["meta"]["images"]}
        documents = {a["name"]: a for a in token["meta"]["documents"]}
        # Empty remove_*_ids remove nothing; the uploads are added next to the existing files.
        assert len(images) == 2
        assert set(documents) == {"prospectus.pdf", "document.pdf"}
        uploaded_image = images[hashlib.sha256(LOCAL_FILES["image.png"]).hexdigest()]
        for attachment, name in ((uploaded_image, "image.png"), (documents["document.pdf"], "document.pdf")):
            served = await client.get(attachment["url"])
            assert served.content == LOCAL_FILES[name]
            assert served.headers["content-type"] == mimetypes.guess_type(name)[0]


class TestImmutableSeed:
    """The 202 and the errors carry exactly what the seed's published spec lists."""

    async def test_202_headers_and_body(self, client: ApiClient) -> None:
        spec = seed_openapi()
        path = "/v1/chains/{chain_name}/collections/{contract_address}/nfts/refresh-metadata"
        operation = spec["paths"][path]["post"]
        header_names = set(operation["responses"]["202"]["headers"])
        body_fields = spec["components"]["schemas"]["MetadataRefreshRateLimitResult"]["required"]

        response = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert response.status_code == 202
        assert header_names == {"imx-refreshes-limit", "imx-refresh-limit-reset", "imx-remaining-refreshes",
                                "retry-after"}
        assert header_names <= set(response.headers)
        assert set(response.json()) == set(body_fields)
        for name in header_names:
            assert response.json()[name.replace("-", "_")] == response.headers[name]

    async def test_429_headers(self, app_for: Any) -> None:
        spec = seed_openapi()
        header_names = set(spec["components"]["responses"]["TooManyMetadataRefreshes"]["headers"])

        async with ApiClient(app_for({"immutable.rate_limit.limit": 1})) as client:
            await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())
            refused = await client.post(IMX_REFRESH, json=refresh_body("1"), headers=imx_headers())

        assert refused.status_code == 429
        assert {name.lower() for name in header_names} <= set(refused.headers)
        assert int(refused.headers["Retry-After"]) >= 1

    @pytest.mark.parametrize(
        ("status", "send"),
        [
            (400, lambda c: c.post(IMX_REFRESH, json={"nft_metadata": []}, headers=imx_headers())),
            (401, lambda c: c.post(IMX_REFRESH, json=refresh_body("1"))),
            (403, lambda c: c.post(IMX_REFRESH, json=refresh_body("1"),
                                   headers=imx_headers("sk_imapik-test-alpha-readonly"))),
            (404, lambda c: c.post(IMX_REFRESH.replace("imtbl-zkevm-testnet", "elsewhere"), json=refresh_body("1"),
                                   headers=imx_headers())),
        ],
    )
    async def test_error_codes(self, client: ApiClient, status: int, send: Any) -> None:
        schemas = seed_openapi()["components"]["schemas"]
        expected = schemas[f"APIError{status}"]["allOf"][1]["properties"]["code"]["enum"]

        response = await send(client)

        assert response.status_code == status
        assert [response.json()["code"]] == expected
        assert set(schemas["BasicAPIError"]["required"]) <= set(response.json())


class TestRairSeed:
    """The update answers with the token in the shape of the seed's success example."""

    async def test_success_example_shape(self, client: ApiClient) -> None:
        text = RAIR_SEED.read_text(encoding="utf-8")
        example_text = re.search(r"\*\*Content example\*\*\s*```json\n(.*?)```", text, re.S)
        assert example_text is not None
        # The example elides further attributes with `...`; drop that line and the comma before it.
        cleaned = re.sub(r",\s*\n\s*\.\.\.\s*\n", "\n", example_text.group(1))
        example = json.loads(cleaned)
        body = Multipart().fields({"name": "CoinAgenda Monaco 2021 #1",
                                   "attributes": json.dumps([{"trait_type": "Crystal Color", "value": "Pink"}])})

        response = await client.post(RAIR_TOKEN_PATH, **body.request_kwargs(rair_headers()))

        assert response.status_code == 200
        token = response.json()["token"]
        assert set(response.json()) == set(example) == {"success", "token"}
        assert set(token) == set(example["token"])
        assert set(token["metadata"]) == set(example["token"]["metadata"])
        for key, value in example["token"].items():
            assert type(token[key]) is type(value), key
