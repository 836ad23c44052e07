"""Fixtures files: the packaged data set, custom files a user supplies, and the errors a broken file gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver.errors import FixturesError
from mockserver.fixtures import load_fixtures, object_id, parse_fixtures
from mockserver.services import Services
from mockserver.settings import Settings
from tests.mockserver.conftest import AppFactory
from tests.mockserver.support import (
    IMX_CHAIN,
    IMX_COLLECTION,
    RAIR_CONTRACT,
    RAIR_NETWORK,
    TKN_BEARER,
    TKN_SEED_BEARER,
    TKN_TOKEN,
    ApiClient,
    Multipart,
    alias_bomb,
    imx_headers,
    rair_headers,
    rair_service,
    tkn_headers,
)

pytestmark = pytest.mark.anyio

STACKED = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"

CUSTOM = """
rair:
  users:
    - {credential: alice-token, address: "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
  contracts:
    - network: "0x5"
      address: "0xABCDEFabcdefABCDEFabcdefABCDEFabcdefABCD"
      owner: "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      products:
        - product: 3
          tokens:
            - {token: 7, metadata: {name: Seven}}
immutable:
  chains:
    - {name: my-chain, id: "eip155:1"}
  projects:
    - id: p1
      api_keys:
        - {key: k1, scopes: ["refresh:metadata"]}
  collections:
    - chain: my-chain
      address: "0x00000000000000000000000000000000000000aa"
      project: p1
      nfts:
        - {token_id: "42", name: Answer}
tokenization:
  bearer_tokens: [bearer-1]
  tokens:
    - {id: AAAAAAAAAAAAAAAAAAAAAAAA, name: Tok, description: Desc, total_value: 10, supply: 2}
"""


class TestPackagedFixtures:
    """The default data set holds every credential and record the README and the seeds mention."""

    def test_default_data_set(self) -> None:
        fixtures = load_fixtures()

        assert {u.credential for u in fixtures.rair_users} == {"rair-owner-token", "rair-collector-token"}
        assert (RAIR_NETWORK, RAIR_CONTRACT, 0, 1) in fixtures.rair_tokens
        assert set(fixtures.immutable_chains) == {"imtbl-zkevm-testnet", "imtbl-zkevm-mainnet", "imtbl-zkevm-devnet"}
        assert (IMX_CHAIN, IMX_COLLECTION, 1) in fixtures.immutable_nfts
        assert TKN_SEED_BEARER in fixtures.tokenization_bearers
        assert TKN_BEARER in fixtures.tokenization_bearers
        assert TKN_TOKEN in fixtures.tokenization_tokens

    def test_nfts_carrying_stacked_metadata_show_it_unless_they_name_their_own(self) -> None:
        fixtures = parse_fixtures({"immutable": {
            "chains": [{"name": "c", "id": "1"}],
            "collections": [{"chain": "c", "address": "0x" + "1" * 40, "project": "p",
                             "metadata": [{"id": STACKED.upper(), "name": "Helmet", "external_url": "https://x.test"}],
                             "nfts": [{"token_id": "1", "metadata_id": STACKED},
                                      {"token_id": "2", "metadata_id": STACKED, "name": "Own name"},
                                      {"token_id": "3"}]}]}})
        nfts = [fixtures.immutable_nfts[("c", "0x" + "1" * 40, token_id)] for token_id in (1, 2, 3)]

        assert fixtures.immutable_metadata[("c", "0x" + "1" * 40, STACKED)]["external_link"] == "https://x.test"
        assert [(nft["name"], nft["external_url"]) for nft in nfts] == [
            ("Helmet", "https://x.test"), ("Own name", "https://x.test"), (None, None)]

    def test_ids_are_stable_object_ids(self) -> None:
        token = load_fixtures().rair_tokens[(RAIR_NETWORK, RAIR_CONTRACT, 0, 1)]

        assert token["_id"] == object_id("rair-token", RAIR_NETWORK, RAIR_CONTRACT, 0, 1)
        assert len(token["_id"]) == 24
        assert int(token["_id"], 16) >= 0

    def test_copy_is_deep(self) -> None:
        fixtures = load_fixtures()
        copied = fixtures.copy()
        copied.rair_tokens[(RAIR_NETWORK, RAIR_CONTRACT, 0, 1)]["metadata"]["name"] = "changed"

        assert fixtures.rair_tokens[(RAIR_NETWORK, RAIR_CONTRACT, 0, 1)]["metadata"]["name"] != "changed"


class TestTokenizationCurrencies:
    """A token's value objects carry the symbol, decimal and address of the currency the fixtures name."""

    def test_value_objects_from_the_listed_currency(self) -> None:
        fixtures = parse_fixtures({"tokenization": {
            "currencies": [{"id": "C" * 24, "symbol": "EURC", "decimal": 2, "address": "0xeur"}],
            "tokens": [{"id": "a" * 24, "name": "n", "description": "d", "currency_token_id": "c" * 24,
                        "total_value": 500, "token_price": 5}],
        }})

        value = fixtures.tokenization_tokens["a" * 24]["value"]
        assert value["total_value"] == {"id": "c" * 24, "amount": 500, "decimal": 2, "symbol": "EURC",
                                        "address": "0xeur"}
        assert value["token_price"] == {**value["total_value"], "amount": 5}


class TestCustomFixtures:
    """A user's fixtures file replaces the data set: its credentials work and the packaged ones do not."""

    async def test_custom_file_drives_all_three_apis(
        self, tmp_yaml: Callable[[str], Path], make_app: AppFactory
    ) -> None:
        app = make_app(fixtures=load_fixtures(tmp_yaml(CUSTOM)))
        # Addresses are normalised to lower case, so any casing in the path finds the contract.
        rair_path = "/api/nft/network/0x5/0xabcdefabcdefabcdefabcdefabcdefabcdefabcd/3/token/7"

        async with ApiClient(app) as client:
            token = await client.get(rair_path, headers=rair_headers("alice-token"))
            # The read needs no credential, so the packaged owner's is tried on an update.
            old_owner = await client.post(rair_path, **Multipart().field("name", "x").request_kwargs(rair_headers()))
            nft = await client.get("/v1/chains/my-chain/collections/0x00000000000000000000000000000000000000aa/nfts/42")
            missing_chain = await client.get(f"/v1/chains/{IMX_CHAIN}/collections/{IMX_COLLECTION}/nfts/1")
            tok = await client.get("/v2/admin/token/aaaaaaaaaaaaaaaaaaaaaaaa", headers=tkn_headers("bearer-1"))
            old_bearer = await client.get("/v2/admin/token/aaaaaaaaaaaaaaaaaaaaaaaa", headers=tkn_headers())

        assert token.status_code == 200
        assert token.json()["result"]["metadata"] == {"name": "Seven"}
        assert old_owner.status_code == 401
        assert nft.status_code == 200
        assert nft.json()["result"]["name"] == "Answer"
        assert nft.json()["result"]["chain"] == {"id": "eip155:1", "name": "my-chain"}
        assert missing_chain.status_code == 404
        assert tok.status_code == 200
        # A file written before the vendor's read shape (issue 12) loads: no currencies, no contract, no type.
        assert tok.json()["value"] == {
            "total_value": {"id": None, "amount": 10, "decimal": None, "symbol": None, "address": None},
            "token_price": {"id": None, "amount": None, "decimal": None, "symbol": None, "address": None},
            "salable_percentage": None,
        }
        assert tok.json()["contract"] == {"address": None, "tx_hash": None}
        assert (tok.json()["type"], tok.json()["status"], tok.json()["token_symbol"]) == (0, 4, "T")
        assert old_bearer.status_code == 401

    def test_settings_fixtures_path_is_loaded(self, tmp_yaml: Callable[[str], Path]) -> None:
        services = Services(Settings(fixtures=str(tmp_yaml(CUSTOM))))

        assert rair_service(services).records.user("alice-token") is not None
        assert rair_service(services).records.user("rair-owner-token") is None

    async def test_refresh_works_for_a_custom_project(
        self, tmp_yaml: Callable[[str], Path], make_app: AppFactory
    ) -> None:
        app = make_app(fixtures=load_fixtures(tmp_yaml(CUSTOM)))
        base = "/v1/chains/my-chain/collections/0x00000000000000000000000000000000000000aa/nfts"
        body = {"nft_metadata": [{"token_id": "42", "name": "New", "description": None, "image": None,
                                  "external_url": None, "animation_url": None, "youtube_url": None,
                                  "attributes": None}]}

        async with ApiClient(app) as client:
            accepted = await client.post(f"{base}/refresh-metadata", json=body, headers=imx_headers("k1"))
            nft = await client.get(f"{base}/42")

        assert accepted.status_code == 202
        assert nft.json()["result"]["name"] == "New"

    def test_empty_file_is_an_empty_data_set(self, tmp_yaml: Callable[[str], Path]) -> None:
        fixtures = load_fixtures(tmp_yaml(""))

        assert fixtures.rair_users == []
        assert fixtures.tokenization_tokens == {}


class TestFixturesErrors:
    """A broken fixtures file is refused with the file, the path inside it and the problem."""

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FixturesError, match=r"cannot read fixtures file .*nope\.yaml"):
            load_fixtures(tmp_path / "nope.yaml")

    @pytest.mark.parametrize("text", [
        pytest.param("tokenization:\n  bearer_tokens: &b [one]\n  extra: *b\n", id="alias"),
        pytest.param("tokenization:\n  tokens:\n    - &t {id: 65f1a2b3c4d5e6f7a8b9c0d1, name: a}\n"
                     "    - {<<: *t, id: 65f1a2b3c4d5e6f7a8b9c0d2}\n", id="merge-key"),
    ])
    def test_aliases_are_refused(self, tmp_yaml: Callable[[str], Path], text: str) -> None:
        with pytest.raises(FixturesError, match=r"not valid YAML.*may not use YAML aliases"):
            load_fixtures(tmp_yaml(text))

    def test_an_alias_bomb_is_refused_before_it_expands(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(FixturesError, match="may not use YAML aliases"):
            load_fixtures(tmp_yaml(alias_bomb()))

    def test_not_yaml(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(FixturesError, match="is not valid YAML"):
            load_fixtures(tmp_yaml("rair: {users: [\n"))

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (["a"], r"top level: must be a mapping"),
            ({"other": {}}, r"top level: unknown sections other"),
            ({"rair": []}, r"rair: must be a mapping"),
            ({"rair": {"users": {"a": 1}}}, r"rair\.users: must be a list"),
            ({"rair": {"users": ["x"]}}, r"rair\.users\[0\]: must be a mapping"),
            ({"rair": {"users": [{"credential": ""}]}}, r"rair\.users\[0\]\.credential: must be a non-empty string"),
            ({"rair": {"contracts": [{"network": "89", "address": "0x" + "1" * 40, "owner": "o"}]}},
             r"rair\.contracts\[0\]\.network: '89' does not match"),
            ({"rair": {"contracts": [{"network": "0x1", "address": "0x12", "owner": "o"}]}},
             r"rair\.contracts\[0\]\.address: '0x12' does not match"),
            ({"rair": {"contracts": [{"network": "0x1", "address": "0x" + "1" * 40, "owner": "o",
                                      "products": [{"product": -1}]}]}},
             r"rair\.contracts\[0\]\.products\[0\]\.product: must be a non-negative integer"),
            ({"rair": {"contracts": [{"network": "0x1", "address": "0x" + "1" * 40, "owner": "o",
                                      "products": [{"product": 0, "tokens": [{"token": 1, "offer": "x"}]}]}]}},
             r"rair\.contracts\[0\]\.products\[0\]\.tokens\[0\]\.offer: must be a number"),
            ({"immutable": {"collections": [{"chain": "nowhere", "address": "0x" + "1" * 40, "project": "p"}]}},
             r"immutable\.collections\[0\]\.chain: 'nowhere' is not one of the chains listed"),
            ({"immutable": {"chains": [{"name": "c", "id": "1"}],
                            "collections": [{"chain": "c", "address": "0x" + "1" * 40, "project": "p",
                                             "contract_type": "ERC20"}]}},
             r"immutable\.collections\[0\]\.contract_type: must be ERC721 or ERC1155"),
            ({"immutable": {"chains": [{"name": "c", "id": "1"}],
                            "collections": [{"chain": "c", "address": "0x" + "1" * 40, "project": "p",
                                             "nfts": [{"token_id": "01"}]}]}},
             r"immutable\.collections\[0\]\.nfts\[0\]\.token_id: '01' does not match"),
            ({"immutable": {"chains": [{"name": "c", "id": "1"}],
                            "collections": [{"chain": "c", "address": "0x" + "1" * 40, "project": "p",
                                             "metadata": [{"id": "helmet"}]}]}},
             r"immutable\.collections\[0\]\.metadata\[0\]\.id: 'helmet' does not match"),
            ({"immutable": {"chains": [{"name": "c", "id": "1"}],
                            "collections": [{"chain": "c", "address": "0x" + "1" * 40, "project": "p",
                                             "metadata": [{"id": STACKED}, {"id": STACKED.upper()}]}]}},
             r"immutable\.collections\[0\]\.metadata\[1\]\.id: .* is listed twice in this collection"),
            ({"immutable": {"projects": [{"id": "p", "api_keys": [{"key": "k", "scopes": "refresh:metadata"}]}]}},
             r"immutable\.projects\[0\]\.api_keys\[0\]\.scopes: must be a list of strings"),
            ({"tokenization": {"bearer_tokens": "abc"}}, r"tokenization\.bearer_tokens: must be a list of non-empty"),
            ({"tokenization": {"tokens": [{"id": "xyz", "name": "n", "description": "d"}]}},
             r"tokenization\.tokens\[0\]\.id: 'xyz' does not match"),
            ({"tokenization": {"tokens": [{"id": "a" * 24, "name": "n"}]}},
             r"tokenization\.tokens\[0\]\.description: must be a non-empty string"),
            ({"tokenization": {"tokens": [{"id": "a" * 24, "name": "n", "description": "d",
                                           "images": [{"id": "b" * 24, "name": "x.png", "sample": "gif"}]}]}},
             r"tokenization\.tokens\[0\]\.images\[0\]\.sample: must be one of pdf, png"),
            ({"tokenization": {"currencies": [{"id": "c" * 24, "symbol": "USDT", "address": "0x1"}]}},
             r"tokenization\.currencies\[0\]\.decimal: must be a non-negative integer"),
            ({"tokenization": {"tokens": [{"id": "a" * 24, "name": "n", "description": "d",
                                           "currency_token_id": "USDT"}]}},
             r"tokenization\.tokens\[0\]\.currency_token_id: 'USDT' does not match"),
            ({"tokenization": {"tokens": [{"id": "a" * 24, "name": "n", "description": "d", "status": "listed"}]}},
             r"tokenization\.tokens\[0\]\.status: must be a non-negative integer"),
        ],
    )
    def test_broken_content(self, raw: Any, message: str) -> None:
        with pytest.raises(FixturesError, match=message):
            parse_fixtures(raw, source="fx.yaml")

    def test_message_names_the_file(self, tmp_yaml: Callable[[str], Path]) -> None:
        path = tmp_yaml("rair:\n  users: 3\n")

        with pytest.raises(FixturesError) as caught:
            load_fixtures(path)

        assert str(caught.value) == f"{path}: rair.users: must be a list"

    def test_app_refuses_a_broken_fixtures_path(self, tmp_yaml: Callable[[str], Path]) -> None:
        with pytest.raises(FixturesError, match="unknown sections extra"):
            Services(Settings(fixtures=str(tmp_yaml("extra: {}\n"))))
