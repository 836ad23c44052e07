"""RAIR token metadata through the ASGI app: owner-only updates, uploads served back, every documented error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.web import MockApp
from tests.mockserver import media
from tests.mockserver.support import (
    RAIR_COLLECTOR,
    RAIR_CONTRACT,
    RAIR_NETWORK,
    RAIR_OTHER_CONTRACT,
    RAIR_OTHER_NETWORK,
    RAIR_TOKEN_PATH,
    ApiClient,
    Multipart,
    assert_error,
    rair_headers,
    rejected_without_change,
)

pytestmark = pytest.mark.anyio

BASE = f"/api/nft/network/{RAIR_NETWORK}/{RAIR_CONTRACT}"


async def post(client: ApiClient, form: Multipart, *, path: str = RAIR_TOKEN_PATH,
               headers: dict[str, str] | None = None) -> Any:
    return await client.post(path, **form.request_kwargs(rair_headers() if headers is None else headers))


class TestRead:
    """GET returns the token as RAIR documents it."""

    async def test_get_token(self, client: ApiClient) -> None:
        response = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())

        assert response.status_code == 200
        body = response.json()
        assert body["success"] is True
        token = body["result"]
        assert token["token"] == 1
        assert token["uniqueIndexInContract"] == 1
        assert token["ownerAddress"] == "0x1111111111111111111111111111111111111111"
        assert token["isMinted"] is True
        assert token["isURIStoredToBlockchain"] is True
        assert token["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"
        assert token["creationDate"] == "2021-09-20T13:53:11.567Z"

    async def test_any_known_user_may_read(self, client: ApiClient) -> None:
        response = await client.get(RAIR_TOKEN_PATH, headers=rair_headers(RAIR_COLLECTOR))

        assert response.status_code == 200

    async def test_address_case_does_not_matter(self, client: ApiClient) -> None:
        path = RAIR_TOKEN_PATH.replace(RAIR_CONTRACT, RAIR_CONTRACT.upper().replace("0X", "0x"))

        response = await client.get(path, headers=rair_headers())

        assert response.status_code == 200
        assert response.json()["result"]["token"] == 1


class TestUpdate:
    """POST updates the token's metadata; GET afterwards returns the same token."""

    async def test_text_fields_and_attributes(self, client: ApiClient) -> None:
        attributes = [{"trait_type": "Crystal Color", "value": "Green"}, {"trait_type": "Size", "value": "XL"}]
        form = Multipart().fields({
            "name": "Renamed", "description": "New description", "artist": "someone",
            "external_url": "https://example.com/x", "attributes": json.dumps(attributes),
        })

        response = await post(client, form)
        read = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())

        assert response.status_code == 200
        body = response.json()
        assert body["success"] is True
        metadata = body["token"]["metadata"]
        assert metadata == {
            "name": "Renamed", "description": "New description", "artist": "someone",
            "external_url": "https://example.com/x", "attributes": attributes,
            "image": "coinagendamonaco1",  # not sent: kept
        }
        assert body["token"]["isURIStoredToBlockchain"] is False
        assert read.json()["result"] == body["token"]

    async def test_fields_not_sent_keep_their_values(self, client: ApiClient) -> None:
        response = await post(client, Multipart().field("description", "Only this"))

        metadata = response.json()["token"]["metadata"]
        assert metadata["description"] == "Only this"
        assert metadata["name"] == "CoinAgenda Monaco 2021 #1"
        assert metadata["attributes"] == [{"trait_type": "Crystal Color", "value": "Pink"}]

    async def test_other_tokens_are_untouched(self, client: ApiClient) -> None:
        await post(client, Multipart().field("name", "Changed"))

        other = await client.get(f"{BASE}/0/token/2", headers=rair_headers())

        assert other.json()["result"]["metadata"]["name"] == "CoinAgenda Monaco 2021 #2"
        assert other.json()["result"]["isURIStoredToBlockchain"] is True

    async def test_collector_updates_own_contract(self, client: ApiClient) -> None:
        path = f"/api/nft/network/{RAIR_OTHER_NETWORK}/{RAIR_OTHER_CONTRACT}/0/token/0"
        body = Multipart().field("name", "Mine")

        response = await post(client, body, path=path, headers=rair_headers(RAIR_COLLECTOR))

        assert response.status_code == 200
        assert response.json()["token"]["metadata"]["name"] == "Mine"

    async def test_empty_attribute_list_clears_attributes(self, client: ApiClient) -> None:
        response = await post(client, Multipart().field("attributes", "[]"))

        assert response.json()["token"]["metadata"]["attributes"] == []

    async def test_absolute_url_is_stored_as_is(self, client: ApiClient) -> None:
        form = Multipart().fields({"image": "https://cdn.example.com/a.png", "animation_url": "ipfs://Qm123"})

        response = await post(client, form)

        metadata = response.json()["token"]["metadata"]
        assert metadata["image"] == "https://cdn.example.com/a.png"
        assert metadata["animation_url"] == "ipfs://Qm123"


class TestUploads:
    """`image` / `animation_url` naming an uploaded file become URLs that serve that file."""

    async def test_image_url_serves_the_uploaded_bytes(self, client: ApiClient) -> None:
        picture = media.png(3, 2, colour=(0, 128, 255))
        form = Multipart().field("image", "cover.png").file("files", "cover.png", picture, "image/png")

        response = await post(client, form)
        url = response.json()["token"]["metadata"]["image"]
        served = await client.get(url)
        read = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())

        assert response.status_code == 200
        assert url.startswith("http://localhost/files/")
        assert served.status_code == 200
        assert served.content == picture
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert read.json()["result"]["metadata"]["image"] == url

    async def test_image_and_animation_from_two_files(self, client: ApiClient) -> None:
        form = (Multipart().fields({"image": "still.gif", "animation_url": "song.mp3"})
                .file("files", "still.gif", media.gif(), "image/gif")
                .file("files", "song.mp3", media.mp3(), "audio/mpeg"))

        metadata = (await post(client, form)).json()["token"]["metadata"]
        image = await client.get(metadata["image"])
        song = await client.get(metadata["animation_url"])

        assert (image.content, image.headers["content-type"]) == (media.gif(), "image/gif")
        assert (song.content, song.headers["content-type"]) == (media.mp3(), "audio/mpeg")

    async def test_undeclared_type_is_sniffed(self, client: ApiClient) -> None:
        form = Multipart().field("image", "raw.bin").file("files", "raw.bin", media.png(), "application/octet-stream")

        url = (await post(client, form)).json()["token"]["metadata"]["image"]
        served = await client.get(url)

        assert served.headers["content-type"] == "image/png"
        assert served.content == media.png()

    async def test_a_stored_file_may_be_cached_for_a_year_unrevalidated(self, client: ApiClient) -> None:
        # Its URL names its content's hash, so what is served there never changes (RFC 8246).
        form = Multipart().field("image", "cover.png").file("files", "cover.png", media.png(), "image/png")

        served = await client.get((await post(client, form)).json()["token"]["metadata"]["image"])

        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"

    async def test_unknown_file_url_is_404(self, client: ApiClient) -> None:
        response = await client.get("/files/" + "0" * 64)

        assert response.status_code == 404

    async def test_file_not_referenced_is_not_stored(self, client: ApiClient, app: MockApp) -> None:
        blobs = len(app.services.store.blobs)
        form = Multipart().field("name", "x").file("files", "unused.png", media.png(9, 9), "image/png")

        response = await post(client, form)

        assert response.status_code == 200
        assert len(app.services.store.blobs) == blobs


class TestAuth:
    """401 without a known credential, 403 for a user who does not own the contract."""

    async def test_missing_credential(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(app, post(client, Multipart().field("name", "x"), headers={}))

        assert_error(response, 401, "x-rair-token")

    async def test_unknown_credential(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(
            app, post(client, Multipart().field("name", "x"), headers=rair_headers("stolen"))
        )

        assert_error(response, 401, "x-rair-token")

    @pytest.mark.parametrize("headers", [{}, {"x-rair-token": "stolen"}, {"x-rair-token": ""}])
    async def test_read_needs_no_credential(self, client: ApiClient, headers: dict[str, str]) -> None:
        """RAIR's GET route has no session check: a public page reads a token with no credential, and one that
        is sent but unknown is ignored, not refused (BEHAVIOUR.md)."""
        anonymous = await client.get(RAIR_TOKEN_PATH, headers=headers)
        signed_in = await client.get(RAIR_TOKEN_PATH, headers=rair_headers())

        assert anonymous.status_code == 200, anonymous.text
        assert anonymous.json() == signed_in.json()
        assert anonymous.json()["result"]["metadata"]["name"] == "CoinAgenda Monaco 2021 #1"

    async def test_non_owner(self, client: ApiClient, app: MockApp) -> None:
        response = await rejected_without_change(
            app, post(client, Multipart().field("name", "x"), headers=rair_headers(RAIR_COLLECTOR))
        )

        body = assert_error(response, 403)
        assert body["message"] == "You have no permissions for updating token 1."

    async def test_owner_of_one_contract_is_not_owner_of_another(self, client: ApiClient, app: MockApp) -> None:
        path = f"/api/nft/network/{RAIR_OTHER_NETWORK}/{RAIR_OTHER_CONTRACT}/0/token/0"

        response = await rejected_without_change(app, post(client, Multipart().field("name", "x"), path=path))

        assert assert_error(response, 403)["message"] == "You have no permissions for updating token 0."


class TestNotFound:
    """A well-formed path naming no known network, contract, product or token is 404."""

    @pytest.mark.parametrize(
        ("path", "words"),
        [
            (f"/api/nft/network/0x5/{RAIR_CONTRACT}/0/token/1", ("contract", "network 0x5")),
            (f"/api/nft/network/{RAIR_NETWORK}/0x{'0' * 40}/0/token/1", ("contract", "0x" + "0" * 40)),
            (f"{BASE}/9/token/1", ("product 9",)),
            (f"{BASE}/0/token/99", ("token 99",)),
            (f"{BASE}/{'9' * 40}/token/1", ("product",)),
        ],
    )
    async def test_get_and_post(self, client: ApiClient, app: MockApp, path: str, words: tuple[str, ...]) -> None:
        read = await client.get(path, headers=rair_headers())
        update = await rejected_without_change(app, post(client, Multipart().field("name", "x"), path=path))

        assert_error(read, 404, *words, "not found")
        assert_error(update, 404, *words, "not found")


class TestValidation:
    """Each rule of the update form is a 400 that names the problem, and nothing is stored."""

    @pytest.mark.parametrize(
        ("form", "words"),
        [
            (Multipart(), ("non-empty",)),
            (Multipart().file("files", "a.png", media.png(), "image/png"), ("Nothing to update",)),
            (Multipart().field("colour", "red"), ("colour",)),
            (Multipart().field("name", ""), ("name", "non-empty")),
            (Multipart().field("description", ""), ("description", "non-empty")),
            (Multipart().field("image", "missing.png"), ("image", "missing.png", "not uploaded")),
            (Multipart().field("animation_url", "clip.mp4").file("files", "other.mp4", media.mp3(), "video/mp4"),
             ("animation_url", "clip.mp4", "other.mp4")),
            (Multipart().field("attributes", "[{"), ("attributes", "JSON")),
            (Multipart().field("attributes", '{"trait_type": "a", "value": "b"}'), ("attributes", "array")),
            (Multipart().field("attributes", "null"), ("attributes", "array")),
            (Multipart().field("attributes", '"text"'), ("attributes", "array")),
            (Multipart().field("attributes", '[{"trait_type": "a", "value": 1}]'),
             ("attributes.0.value", "string")),
            (Multipart().field("attributes", '[{"trait_type": "a"}]'), ("attributes.0.value", "required")),
            (Multipart().field("attributes", '[{"trait_type": "a", "value": "b", "extra": "c"}]'),
             ("attributes.0", "extra")),
            (Multipart().field("attributes", '["a"]'), ("attributes.0", "object")),
            (Multipart().field("name", "a").field("name", "b"), ("name", "2 times")),
            (Multipart().field("name", "x").file("files", "1.png", media.png(1), "image/png")
             .file("files", "2.png", media.png(2), "image/png").file("files", "3.png", media.png(3), "image/png"),
             ("files", "3 items", "at most 2")),
        ],
    )
    async def test_rule(self, client: ApiClient, app: MockApp, form: Multipart, words: tuple[str, ...]) -> None:
        response = await rejected_without_change(app, post(client, form))

        assert_error(response, 400, *words)

    async def test_nothing_to_update_message_is_rairs(self, client: ApiClient) -> None:
        form = Multipart().file("files", "a.png", media.png(), "image/png")

        assert assert_error(await post(client, form), 400)["message"] == "Nothing to update."


class TestFileLimits:
    """Files: over the size limit is 413, a type other than image/video/audio is 415."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rair.max_file_bytes": 2000, "rair.max_files": 1}

    async def test_file_over_size(self, client: ApiClient, app: MockApp) -> None:
        big = media.png(30, 30, colour=(1, 2, 3)) + b"\0" * 2500
        form = Multipart().field("image", "big.png").file("files", "big.png", big, "image/png")

        response = await rejected_without_change(app, post(client, form))

        assert_error(response, 413, "big.png", "2000 byte")

    async def test_max_files_is_configurable(self, client: ApiClient, app: MockApp) -> None:
        form = (Multipart().field("name", "x").file("files", "1.png", media.png(1), "image/png")
                .file("files", "2.png", media.png(2), "image/png"))

        response = await rejected_without_change(app, post(client, form))

        assert_error(response, 400, "files", "at most 1")

    @pytest.mark.parametrize(
        ("filename", "data", "declared", "words"),
        [
            ("notes.txt", media.text(), "text/plain", ("notes.txt", "text/plain")),
            ("cover.png", media.png(), "text/plain", ("cover.png", "text/plain")),
            ("doc.pdf", media.pdf(), "application/pdf", ("doc.pdf", "application/pdf")),
            ("blob", media.text(), None, ("blob", "application/octet-stream")),
        ],
    )
    async def test_wrong_type(self, client: ApiClient, app: MockApp, filename: str, data: bytes,
                              declared: str | None, words: tuple[str, ...]) -> None:
        form = Multipart().field("image", filename).file("files", filename, data, declared)

        response = await rejected_without_change(app, post(client, form))

        assert_error(response, 415, *words, "image, video and audio")
