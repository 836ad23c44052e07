"""RAIR's fixtures section from recorded reads: each token `getToken` returned, by contract and product."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.apis.base import RecordedRead

# The fields of a read token that a fixtures token takes as they are (the ids the mock derives itself).
_TOKEN_FIELDS = ("offerPool", "offer", "metadataURI", "creationDate", "authenticityLink", "isMinted",
                 "isURIStoredToBlockchain", "ownerAddress", "metadata")


def recorded_fixtures(reads: Sequence[RecordedRead]) -> dict[str, Any]:
    contracts: dict[tuple[str, str], dict[str, Any]] = {}
    for read in reads:
        body = read.body if isinstance(read.body, dict) else {}
        token = body.get("result")
        if read.operation != "getToken" or not isinstance(token, dict):
            continue
        # /api/nft/network/{networkId}/{contract}/{product}/token/{token}
        parts = read.path.strip("/").split("/")
        network, address, product = parts[3].lower(), parts[4].lower(), int(parts[5])
        # A read does not name the contract's owner; its tokens' owner is the best guess there is (the
        # mock's own default), and writes need a user of that address (`rair.users`) anyway.
        contract = contracts.setdefault((network, address), {
            "network": network, "address": address, "owner": token.get("ownerAddress", ""), "products": {},
        })
        tokens = contract["products"].setdefault(product, {})
        tokens[token["token"]] = {"token": token["token"],
                                  **{field: token[field] for field in _TOKEN_FIELDS if field in token}}
    if not contracts:
        return {}
    return {"contracts": [
        {**contract, "products": [{"product": product, "tokens": list(tokens.values())}
                                  for product, tokens in contract["products"].items()]}
        for contract in contracts.values()
    ]}
