"""The records Tokenization keeps, typed: a token is stored in the shape `getToken` answers (the vendor's "Get Token
Details" page, `specs/tokenization.yaml` TokenDetails) plus what only the mock reads (`supply`).

The store holds plain JSON-able dicts (the Redis store serialises them), so these are TypedDicts over those dicts,
not classes the records would have to be converted to and from.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Currency(TypedDict):
    """A currency a token's value can be in (fixtures, `tokenization.currencies`)."""

    id: str
    symbol: str
    decimal: int
    address: str


class CurrencyValue(TypedDict):
    """`value.token_price` / `value.total_value`: an amount and its currency (null fields for an unknown one)."""

    id: str | None
    amount: float | None
    decimal: int | None
    symbol: str | None
    address: str | None


class Value(TypedDict):
    token_price: CurrencyValue
    total_value: CurrencyValue
    salable_percentage: float | None


class Image(TypedDict):
    id: str
    is_default: bool
    hash: str  # the file's sha256, which is also the key its bytes are stored and served under
    created_at: str
    deleted_at: str | None
    url: NotRequired[str]  # added on the way out: it depends on the request's base URL


class Document(TypedDict):
    id: str
    name: str
    type: int
    hash: str
    created_at: str
    deleted_at: str | None
    url: NotRequired[str]


class Meta(TypedDict):
    images: list[Image]
    documents: list[Document]


class Oracle(TypedDict):
    id: str | None
    code: str | None


class Contract(TypedDict):
    address: str | None
    tx_hash: str | None


class Token(TypedDict):
    id: str
    category_id: str
    node_id: str
    type: int
    status: int
    is_public: bool
    name: str
    description: str
    token_name: str
    token_symbol: str
    oracle: Oracle
    meta: Meta
    contract: Contract
    value: Value
    created_at: str
    updated_at: str
    # How many units the token has, so `token_price` follows `total_value`; the mock's own, never answered.
    supply: NotRequired[float | None]
