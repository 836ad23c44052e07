"""Immutable zkEVM: refresh quota and rate headers, error codes and trace ids, body limits, async refresh."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance._specs import load_spec
from conformance.apis.immutable.target import Collection, immutable_of
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context, RuleSource
from conformance.behaviour.strategies import slugs, texts
from conformance.exchange import Exchange, RequestSpec

OPERATION = "RefreshNFTMetadataByTokenID"
KiB = 1024
MAX_ITEMS = 250
MAX_ITEM_BYTES = 16 * KiB
MAX_LIST_BYTES = 228 * KiB
RATE_HEADERS = ("imx-refreshes-limit", "imx-remaining-refreshes", "imx-refresh-limit-reset")
# Exhausting a bigger quota takes too long for a conformance run; the check says so and skips.
MAX_EXHAUSTION_REQUESTS = 5000
_RESET_FORMAT = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(\.\d{1,9})? \+0000 UTC$")
_POLL_INTERVAL = 0.1
# ListNFTs: page_size runs from 1 to 200; at most 30 token_id filter values.
MAX_PAGE_SIZE = 200
MAX_TOKEN_FILTER = 30
# Pages of the unfiltered collection a quick check walks (up to 2,000 NFTs).
FULL_WALK_PAGES = 10
# Reads of one resource in a row, for the checks that reads repeat and never go back.
REPEATED_READS = 4
# A 429's Retry-After and the reset header may disagree by whole-second rounding and the request's time.
RESET_TOLERANCE = 2.0
# The NFT fields an applied refresh stamps.
_REFRESH_STAMPS = ("updated_at", "metadata_synced_at")
# Why a check reads an NFT twice before it sends requests that must be rejected.
_SHOWS_NOTHING_CHANGED = "needed to show that rejected requests change nothing"
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@cache
def error_codes_by_status() -> dict[int, str]:
    """The code each error status must carry, as the spec's `APIError{status}` schemas state it."""
    schemas = load_spec("immutable")["components"]["schemas"]
    codes = {}
    for name, schema in schemas.items():
        if re.fullmatch(r"APIError\d{3}", name):
            code = next(part["properties"]["code"]["enum"][0] for part in schema["allOf"]
                        if "code" in part.get("properties", {}))
            codes[int(name[-3:])] = code
    return codes


def _item(token_id: str, **metadata: Any) -> dict[str, Any]:
    """A refresh item with every key the schema requires."""
    base: dict[str, Any] = {
        "name": None,
        "description": None,
        "image": None,
        "external_url": None,
        "animation_url": None,
        "youtube_url": None,
        "attributes": [],
    }
    return {"token_id": token_id, **base, **metadata}


def _refresh(
    ctx: Context,
    items: list[dict[str, Any]],
    *,
    key: str | None = None,
    collection: Collection | None = None,
    send_key: bool = True,
) -> Exchange:
    target = ctx.target.immutable
    headers = {"x-immutable-api-key": key or target.api_key} if send_key else {}
    path = (collection or target.collection).base + "/nfts/refresh-metadata"
    return ctx.send(RequestSpec(method="POST", path=path, headers=headers, json={"nft_metadata": items}))


def _get_nft(ctx: Context, token_id: str, collection: Collection | None = None) -> Exchange:
    return ctx.http.get((collection or ctx.target.immutable.collection).base + f"/nfts/{token_id}")


@dataclasses.dataclass(frozen=True)
class Quota:
    """The rate headers of one response, parsed."""

    limit: int
    remaining: int
    reset: datetime
    retry_after: int


def parse_reset(text: str) -> datetime | None:
    """`2024-04-16 11:06:07.401553 +0000 UTC` (Go's time format) as an aware datetime; None if malformed."""
    match = _RESET_FORMAT.match(text)
    if match is None:
        return None
    fraction = (match.group(2) or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(microsecond=int(fraction), tzinfo=UTC)


def _now(exchange: Exchange) -> datetime:
    """The server's idea of now: its Date header (RFC 9110 6.6.1) if it sends a valid one, else our clock.

    A server's reset time is judged against the server's own clock, which need not be ours (a test server
    started at a fixed date, a host whose clock drifts).
    """
    date = exchange.response.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date)
        except (TypeError, ValueError):
            pass
    return datetime.now(tz=UTC)


def read_quota(ctx: Context, exchange: Exchange) -> Quota:
    """The four rate headers of a 202 or 429, each checked for presence and form."""
    headers = exchange.response.headers
    missing = [name for name in (*RATE_HEADERS, "retry-after") if name not in headers]
    ctx.expect(
        not missing,
        expected=f"rate headers {', '.join((*RATE_HEADERS, 'retry-after'))} on a {exchange.status}",
        actual=f"missing {', '.join(missing)}",
        exchange=exchange,
    )
    numbers = {}
    for name in ("imx-refreshes-limit", "imx-remaining-refreshes", "retry-after"):
        value = headers[name]
        ctx.expect(
            value.isdigit(),
            expected=f"{name} to be a whole number",
            actual=f"{name}: {value!r}",
            exchange=exchange,
        )
        numbers[name] = int(value)
    reset = parse_reset(headers["imx-refresh-limit-reset"])
    ctx.expect(
        reset is not None,
        expected="imx-refresh-limit-reset like '2024-04-16 11:06:07.401553 +0000 UTC'",
        actual=f"imx-refresh-limit-reset: {headers['imx-refresh-limit-reset']!r}",
        exchange=exchange,
    )
    assert reset is not None
    ctx.expect(
        reset.timestamp() > _now(exchange).timestamp() - 1,
        expected="imx-refresh-limit-reset in the future",
        actual=f"imx-refresh-limit-reset {reset.isoformat()}",
        exchange=exchange,
    )
    return Quota(
        numbers["imx-refreshes-limit"], numbers["imx-remaining-refreshes"], reset, numbers["retry-after"]
    )


def check_accepted(ctx: Context, exchange: Exchange, previous: Quota | None) -> Quota:
    """A 202: headers well formed and mirrored in the body, counting down by one from `previous`."""
    ctx.expect_status(exchange, 202, why="a valid refresh by the collection's owner with quota left")
    quota = read_quota(ctx, exchange)
    body = exchange.json() or {}
    for name in (*RATE_HEADERS, "retry-after"):
        key = name.replace("-", "_")
        ctx.expect(
            body.get(key) == exchange.response.headers[name],
            expected=f"body {key} to mirror header {name} ({exchange.response.headers[name]!r})",
            actual=f"body {key} = {body.get(key)!r}",
            exchange=exchange,
        )
    if quota.remaining > 0:
        ctx.expect(
            quota.retry_after == 0,
            expected="retry-after 0 while refreshes remain",
            actual=f"retry-after {quota.retry_after} with {quota.remaining} remaining",
            exchange=exchange,
        )
    if previous is not None:
        ctx.expect(
            quota.limit == previous.limit,
            expected=f"imx-refreshes-limit to stay {previous.limit}",
            actual=f"imx-refreshes-limit {quota.limit}",
            exchange=exchange,
        )
        new_window = quota.remaining > previous.remaining
        if not new_window:
            ctx.expect(
                quota.remaining == previous.remaining - 1,
                expected=f"imx-remaining-refreshes {previous.remaining - 1} (one less per accepted refresh)",
                actual=f"imx-remaining-refreshes {quota.remaining}",
                exchange=exchange,
            )
            ctx.expect(
                quota.reset == previous.reset,
                expected=f"imx-refresh-limit-reset to stay {previous.reset} within the window",
                actual=f"imx-refresh-limit-reset {quota.reset}",
                exchange=exchange,
            )
    return quota


def check_too_many(ctx: Context, exchange: Exchange, limit: int | None) -> Quota:
    """A 429: Immutable's code, a whole Retry-After of at least one second, and nothing remaining."""
    ctx.expect_status(exchange, 429, why="the project's refresh quota is spent")
    check_error_body(ctx, exchange)
    quota = read_quota(ctx, exchange)
    ctx.expect(
        quota.retry_after >= 1,
        expected="Retry-After of at least 1 second on a 429",
        actual=f"Retry-After {quota.retry_after}",
        exchange=exchange,
    )
    ctx.expect(
        quota.remaining == 0,
        expected="imx-remaining-refreshes 0 on a 429",
        actual=f"imx-remaining-refreshes {quota.remaining}",
        exchange=exchange,
    )
    until_reset = (quota.reset - _now(exchange)).total_seconds()
    ctx.expect(
        abs(quota.retry_after - until_reset) <= RESET_TOLERANCE,
        expected=f"Retry-After to agree with imx-refresh-limit-reset ({quota.reset.isoformat()}, "
        f"{max(0.0, until_reset):.0f} s away) within {RESET_TOLERANCE:g} s",
        actual=f"Retry-After {quota.retry_after}",
        exchange=exchange,
    )
    if limit is not None:
        ctx.expect(
            quota.limit == limit,
            expected=f"imx-refreshes-limit {limit}",
            actual=f"{quota.limit}",
            exchange=exchange,
        )
    return quota


def check_error_body(ctx: Context, exchange: Exchange) -> str:
    """Immutable's error shape with the code of its status; returns the trace id."""
    body = exchange.json()
    ctx.expect(
        isinstance(body, dict),
        expected="a JSON error body {message, link, trace_id, code, details}",
        actual=exchange.summary(),
        exchange=exchange,
    )
    assert isinstance(body, dict)
    wanted = error_codes_by_status().get(exchange.status)
    ctx.expect(
        body.get("code") == wanted,
        expected=f"code {wanted} for status {exchange.status}",
        actual=f"code {body.get('code')!r}",
        exchange=exchange,
    )
    for key in ("message", "link", "trace_id"):
        ctx.expect(
            isinstance(body.get(key), str) and bool(body.get(key)),
            expected=f"a non-empty {key}",
            actual=f"{key} = {body.get(key)!r}",
            exchange=exchange,
        )
    if exchange.status == 400:
        ctx.expect(
            isinstance(body.get("details"), dict) and bool(body.get("details")),
            expected="details naming the offending field on a 400",
            actual=f"details = {body.get('details')!r}",
            exchange=exchange,
        )
    return str(body["trace_id"])


class RefreshQuotaMachine(RuleBasedStateMachine):
    """Accepted refreshes count down one at a time, rejected ones do not count, limit and reset hold still."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.quota: Quota | None = None
        self.spent = False

    @rule(index=st.integers(0, 1000), name=texts())
    def refresh(self, index: int, name: str) -> None:
        ctx = self.ctx
        ids = ctx.target.immutable.token_ids
        exchange = _refresh(ctx, [_item(ids[index % len(ids)], name=name)])
        if exchange.status == 429:
            if self.quota is None:
                check_too_many(ctx, exchange, None)
                raise CheckSkipped("the project's refresh quota was already spent when the check started")
            ctx.expect(
                self.quota.remaining == 0,
                expected=f"a 202 ({self.quota.remaining} refreshes remained)",
                actual=exchange.summary(),
                exchange=exchange,
            )
            check_too_many(ctx, exchange, self.quota.limit)
            ctx.ok()
            return
        self.quota = check_accepted(ctx, exchange, self.quota)
        ctx.ok()

    @precondition(lambda self: self.quota is not None)
    @rule(tag=slugs())
    def rejected_refresh(self, tag: str) -> None:
        """A duplicate token id is a 400, and it must not count against the quota."""
        ctx = self.ctx
        token_id = ctx.target.immutable.token_ids[0]
        exchange = _refresh(
            ctx, [_item(token_id, name=f"rejected {tag}"), _item(token_id, name=f"twice {tag}")]
        )
        ctx.expect_status(exchange, 400, why="the same token_id twice in one request")
        ctx.ok()


def refresh_quota(ctx: Context) -> None:
    ctx.state_machine(lambda: RefreshQuotaMachine(ctx), examples=max(2, ctx.examples // 2), steps=8)


def quota_exhaustion(ctx: Context) -> None:
    token_id = ctx.target.immutable.token_ids[0]
    first = _refresh(ctx, [_item(token_id, name="quota probe")])
    if first.status == 429:
        check_too_many(ctx, first, None)
        ctx.ok()
        return
    quota = check_accepted(ctx, first, None)
    if quota.remaining > MAX_EXHAUSTION_REQUESTS:
        raise CheckSkipped(
            f"{quota.remaining} refreshes remain; spending them would take more than "
            f"{MAX_EXHAUSTION_REQUESTS} requests"
        )
    for _ in range(quota.remaining):
        exchange = _refresh(ctx, [_item(token_id, name="quota probe")])
        if exchange.status == 429:
            raise CheckFailed(
                expected=f"a 202 ({quota.remaining} refreshes remained)",
                actual=exchange.summary(),
                exchange=exchange,
            )
        quota = check_accepted(ctx, exchange, quota)
    traces = set()
    for _ in range(2):
        refused = _refresh(ctx, [_item(token_id, name="over quota")])
        check_too_many(ctx, refused, quota.limit)
        trace = check_error_body(ctx, refused)
        ctx.expect(
            trace not in traces,
            expected="a new trace_id on every response",
            actual=f"trace_id {trace} again",
            exchange=refused,
        )
        traces.add(trace)
    ctx.ok(quota.limit)


@dataclasses.dataclass(frozen=True)
class _ErrorCase:
    description: str
    status: int
    spec: RequestSpec


def _error_cases(ctx: Context, tag: str) -> list[_ErrorCase]:
    target = ctx.target.immutable
    refresh_path = target.collection.base + "/nfts/refresh-metadata"
    body = {"nft_metadata": [_item(target.token_ids[0], name=f"never stored {tag}")]}
    cases = [
        _ErrorCase("no API key", 401, RequestSpec(method="POST", path=refresh_path, json=body)),
        _ErrorCase(
            "an unknown API key",
            401,
            RequestSpec(
                method="POST",
                path=refresh_path,
                json=body,
                headers={"x-immutable-api-key": f"sk_unknown-{tag}"},
            ),
        ),
        _ErrorCase(
            "an unknown chain",
            404,
            RequestSpec(
                method="GET",
                path=f"/v1/chains/unknown-chain-{tag}/collections/{target.collection.address}/nfts",
            ),
        ),
        _ErrorCase(
            "a malformed contract address",
            400,
            RequestSpec(method="GET", path=f"/v1/chains/{target.collection.chain}/collections/0x{tag}/nfts"),
        ),
        _ErrorCase(
            "an empty nft_metadata list",
            400,
            RequestSpec(
                method="POST",
                path=refresh_path,
                json={"nft_metadata": []},
                headers={"x-immutable-api-key": target.api_key},
            ),
        ),
    ]
    # Refreshes that authenticate but must be forbidden, each only where the target names what it needs.
    forbidden = [
        ("a key without refresh:metadata", target.readonly_api_key, refresh_path),
        ("another project's key", target.foreign_api_key, refresh_path),
        ("another project's collection", target.api_key if target.foreign_collection else None,
         target.foreign_collection.base + "/nfts/refresh-metadata" if target.foreign_collection else ""),
    ]
    for description, key, path in forbidden:
        if key:
            headers = {"x-immutable-api-key": key}
            cases.append(_ErrorCase(description, 403, RequestSpec(method="POST", path=path, json=body,
                                                                   headers=headers)))
    return cases


def error_codes(ctx: Context) -> None:
    traces: set[str] = set()
    count = len(_error_cases(ctx, "x"))

    @given(index=st.integers(0, count - 1), tag=slugs(), repeat=st.integers(1, 2))
    def test(index: int, tag: str, repeat: int) -> None:
        case = _error_cases(ctx, tag)[index]
        for _ in range(repeat):
            exchange = ctx.send(case.spec)
            ctx.expect_status(exchange, case.status, why=case.description)
            trace = check_error_body(ctx, exchange)
            ctx.expect(
                trace not in traces,
                expected="a new trace_id on every response",
                actual=f"trace_id {trace!r} seen before",
                exchange=exchange,
            )
            traces.add(trace)
            ctx.ok()

    ctx.given(test, examples=max(ctx.examples, count))


def _unpadded_size(token_id: str) -> int:
    return len(_compact(_item(token_id, name="conformance oversize", description="")))


def _item_of_size(token_id: str, size: int) -> dict[str, Any]:
    """An item of exactly `size` bytes as the spec measures it: compact UTF-8 JSON, as the server receives it."""
    item = _item(token_id, name="conformance oversize", description="")
    padding = size - _unpadded_size(token_id)
    if padding < 0:
        raise ValueError(f"an item cannot be as small as {size} bytes")
    return {**item, "description": "x" * padding}


def _list_of_size(first: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """`first`, then items of at most 12 KiB (each under the item limit), `size` bytes of compact JSON in all."""
    items = [first]
    # "[" + items joined by "," + "]"; an item needs some bytes of its own besides its padding.
    remaining = size - len(_compact(items))
    per_item = 12 * KiB
    token = 10**9
    while remaining > 0:
        # Each further item costs its bytes plus one comma; never leave a remainder too small for an item.
        smallest = _unpadded_size(str(token))
        take = min(per_item, remaining - 1)
        if remaining - 1 - take and remaining - 1 - take < smallest + 1:
            take = remaining - 1 - (smallest + 1)
        items.append(_item_of_size(str(token), take))
        remaining -= take + 1
        token += 1
    return items


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def body_limits(ctx: Context) -> None:
    ids = ctx.target.immutable.token_ids

    def bodies(kind: str, extra: int, tag: str) -> list[dict[str, Any]]:
        first = ids[0]
        if kind == "251 items":
            return [_item(first, name=f"rejected {tag}")] + [
                _item(str(10**9 + i)) for i in range(MAX_ITEMS + extra - 1)
            ]
        if kind == "a duplicate token_id":
            return (
                [_item(first, name=f"rejected {tag}")]
                + [_item(str(10**9 + i)) for i in range(extra)]
                + [_item(first, name=f"again {tag}")]
            )
        # The limits are inclusive: one byte over each is the smallest rejected size, whatever the seed.
        if kind == "an item over 16 KiB":
            return [_item(first, name=f"rejected {tag}"), _item_of_size(str(10**9), MAX_ITEM_BYTES + 1)]
        # A list one byte over 228 KiB whose items are each under 16 KiB.
        return _list_of_size(_item(first, name=f"rejected {tag}"), MAX_LIST_BYTES + 1)

    kinds = ["251 items", "a duplicate token_id", "an item over 16 KiB", "a list over 228 KiB"]

    @given(kind=st.sampled_from(kinds), extra=st.integers(1, 20), tag=slugs())
    def test(kind: str, extra: int, tag: str) -> None:
        if kind == "251 items":
            extra = 1
        before = _get_nft(ctx, ids[0])
        exchange = _refresh(ctx, bodies(kind, extra, tag))
        ctx.expect_status(exchange, 400, why=kind)
        check_error_body(ctx, exchange)
        ctx.expect_unchanged(before, _get_nft(ctx, ids[0]), rejected=exchange)
        ctx.ok()

    ctx.given(test, examples=max(ctx.examples, len(kinds)))


def refresh_visible(ctx: Context) -> None:
    target = ctx.target.immutable
    metadata = st.fixed_dictionaries(
        {
            "name": texts(),
            "description": texts(),
            "image": slugs().map(lambda s: f"https://example.com/{s}.png"),
            "external_url": st.none() | slugs().map(lambda s: f"https://example.com/{s}"),
            "animation_url": st.none() | slugs().map(lambda s: f"https://example.com/{s}.mp4"),
            "youtube_url": st.none() | slugs().map(lambda s: f"https://youtube.com/watch?v={s}"),
            "attributes": st.lists(
                st.fixed_dictionaries({"trait_type": texts(20), "value": texts(20)}), max_size=3
            ),
        }
    )

    @given(token_id=st.sampled_from(target.token_ids), fields=metadata)
    def test(token_id: str, fields: dict[str, Any]) -> None:
        exchange = _refresh(ctx, [_item(token_id, **fields)])
        _expect_accepted(ctx, exchange)
        _wait_until_shown(ctx, token_id, fields, exchange)
        ctx.ok(2)

    ctx.given(test)


def _expect_accepted(ctx: Context, exchange: Exchange, why: str = "a valid refresh by the collection's owner") -> None:
    """A valid refresh by the owner is 202; a spent quota means the check cannot go on, not that it failed."""
    if exchange.status == 429:
        raise CheckSkipped("the project's refresh quota is spent (429); rerun once the window resets")
    ctx.expect_status(exchange, 202, why=why)


def _wait_until_shown(ctx: Context, token_id: str, fields: dict[str, Any], refresh: Exchange) -> dict[str, Any]:
    """Poll GET NFT until it shows `fields` with metadata_synced_at set (refreshes are asynchronous)."""
    timeout = ctx.target.immutable.refresh_timeout
    deadline = time.monotonic() + timeout
    while True:
        shown = _get_nft(ctx, token_id)
        nft = _nft(ctx, shown, why=f"GET of NFT {token_id} after its refresh")
        differing = {k: nft.get(k) for k, v in fields.items() if _normalise(k, nft.get(k)) != _normalise(k, v)}
        if not differing and nft.get("metadata_synced_at"):
            return nft
        if time.monotonic() >= deadline:
            raise CheckFailed(
                expected=f"GET NFT to show the refreshed metadata {fields!r} with metadata_synced_at set "
                f"within {timeout:g} s",
                actual=f"still {differing!r}, metadata_synced_at {nft.get('metadata_synced_at')!r}",
                exchange=refresh,
            )
        time.sleep(_POLL_INTERVAL)


def _normalise(key: str, value: Any) -> Any:
    if key == "attributes" and isinstance(value, list):
        return [
            {"trait_type": a.get("trait_type"), "value": a.get("value")} for a in value if isinstance(a, dict)
        ]
    return value


# Reads and the resources they name.


def _list_path(collection: Collection, query: Sequence[tuple[str, str]] = ()) -> str:
    """ListNFTs' path with its query in it: `token_id` repeats, which a mapping of parameters cannot say."""
    path = collection.base + "/nfts"
    return f"{path}?{urlencode(list(query))}" if query else path


def _list_nfts(ctx: Context, query: Sequence[tuple[str, str]] = (), collection: Collection | None = None) -> Exchange:
    return ctx.http.get(_list_path(collection or ctx.target.immutable.collection, query))


def _nft(ctx: Context, exchange: Exchange, *, why: str) -> dict[str, Any]:
    """The NFT of a GetNFT 200."""
    result = _result(ctx, exchange, why=why)
    ctx.expect(isinstance(result, dict), expected="`result` to be an NFT object", actual=exchange.summary(),
               exchange=exchange)
    return dict(result)


def _nfts(ctx: Context, exchange: Exchange, *, why: str) -> list[dict[str, Any]]:
    """The NFTs of a ListNFTs 200."""
    result = _result(ctx, exchange, why=why)
    ctx.expect(
        isinstance(result, list) and all(isinstance(nft, dict) for nft in result),
        expected="`result` to be a list of NFT objects",
        actual=exchange.summary(),
        exchange=exchange,
    )
    return list(result)


def _result(ctx: Context, exchange: Exchange, *, why: str) -> Any:
    ctx.expect_status(exchange, 200, why=why)
    body = exchange.json()
    ctx.expect(
        isinstance(body, dict) and "result" in body,
        expected="a JSON body with `result`",
        actual=exchange.summary(),
        exchange=exchange,
    )
    return body["result"]


def _listed_ids(exchange: Exchange) -> set[str]:
    """The token ids a ListNFTs answer names, whatever else is wrong with it (for choosing unknown ids)."""
    body = exchange.json()
    result = body.get("result") if isinstance(body, dict) else None
    return {str(nft.get("token_id")) for nft in result or [] if isinstance(nft, dict)}


def _unknown_token_id(ctx: Context) -> str:
    """A well-formed token id past the target's that the collection does not list."""
    start = max(int(token_id) for token_id in ctx.target.immutable.token_ids) + 2**128 + ctx.seed
    for candidate in (str(start + step) for step in range(5)):
        if candidate not in _listed_ids(_list_nfts(ctx, [("token_id", candidate)])):
            return candidate
    raise CheckSkipped(f"ListNFTs lists every token id tried from {start} on: found no unknown token id")


def _unknown_places(ctx: Context) -> list[tuple[str, Collection]]:
    """A well-formed chain name and contract address next to the target's that name nothing the server has."""
    target = ctx.target.immutable
    known = {target.collection.address.lower()}
    if target.foreign_collection is not None:
        known.add(target.foreign_collection.address.lower())
    value = int(target.collection.address, 16)
    address = next(
        a for a in (f"0x{(value ^ (0xC0FFEE + ctx.seed + step)):040x}" for step in range(3)) if a not in known
    )
    chain = f"{target.collection.chain}-unknown"
    return [
        (f"unknown chain {chain}", Collection(chain=chain, address=target.collection.address)),
        (f"unknown collection {address}", Collection(chain=target.collection.chain, address=address)),
    ]


def unknown_resources(ctx: Context) -> None:
    target = ctx.target.immutable
    known_id = target.token_ids[0]
    unknown_id = _unknown_token_id(ctx)
    places = _unknown_places(ctx)
    reads = [(f"GetNFT of token {unknown_id}, which ListNFTs does not list",
              target.collection.base + f"/nfts/{unknown_id}")]
    for what, place in places:
        reads += [(f"GetNFT on an {what}", place.base + f"/nfts/{known_id}"),
                  (f"ListNFTs on an {what}", _list_path(place))]
    for why, path in reads:
        exchange = ctx.http.get(path)
        ctx.expect_status(exchange, 404, why=why)
        check_error_body(ctx, exchange)
        ctx.ok()
    unrepeatable = _unrepeatable(ctx, known_id, purpose=_SHOWS_NOTHING_CHANGED)
    before = _get_nft(ctx, known_id)
    for what, place in places:
        refused = _refresh(ctx, [_item(known_id, name="conformance: never stored")], collection=place)
        ctx.expect_status(refused, 404, why=f"a refresh on an {what}")
        check_error_body(ctx, refused)
        for path in (place.base + f"/nfts/{known_id}", _list_path(place)):
            after = ctx.http.get(path)
            ctx.expect(
                after.status == 404,
                expected=f"the refused refresh on an {what} to create nothing: GET {path} still 404",
                actual=after.summary(),
                exchange=refused,
            )
        if unrepeatable is None:
            ctx.expect_unchanged(before, _get_nft(ctx, known_id), rejected=refused)
        ctx.ok()
    if unrepeatable is not None:
        raise unrepeatable


def _expect_identity(ctx: Context, nft: dict[str, Any], token_id: str | None, exchange: Exchange) -> None:
    """The NFT read is the one asked for: its token id, contract address and chain match the request."""
    collection = ctx.target.immutable.collection
    chain = nft.get("chain")
    found = (nft.get("token_id"), str(nft.get("contract_address")).lower(),
             chain.get("name") if isinstance(chain, dict) else chain)
    wanted = (token_id or nft.get("token_id"), collection.address.lower(), collection.chain)
    ctx.expect(
        found == wanted,
        expected=f"the NFT asked for: token_id, contract_address, chain name {wanted}",
        actual=f"{found}",
        exchange=exchange,
    )


def nft_identity(ctx: Context) -> None:
    target = ctx.target.immutable
    for token_id in target.token_ids:
        exchange = _get_nft(ctx, token_id)
        _expect_identity(ctx, _nft(ctx, exchange, why=f"GetNFT of token {token_id}, which the target lists"),
                         token_id, exchange)
        ctx.ok()
    listed = _list_nfts(ctx, [("token_id", token_id) for token_id in target.token_ids[:MAX_TOKEN_FILTER]])
    for nft in _nfts(ctx, listed, why="ListNFTs filtered by the target's token ids"):
        _expect_identity(ctx, nft, None, listed)
    ctx.ok()


def reads_repeatable(ctx: Context) -> None:
    target = ctx.target.immutable
    paths = [target.collection.base + f"/nfts/{token_id}" for token_id in target.token_ids[:5]]
    paths.append(_list_path(target.collection, [("page_size", "5")]))
    for path in paths:
        reads = [ctx.http.get(path) for _ in range(REPEATED_READS)]
        bodies = [exchange.json() if exchange.json() is not None else exchange.response.text for exchange in reads]
        # A refresh accepted before this check may land between two reads (refreshes are asynchronous): one
        # change that stays is that; a second change, or a return to an earlier answer, is not.
        changes = [index for index in range(1, len(bodies)) if bodies[index] != bodies[index - 1]]
        if len(changes) > 1:
            first, second = changes[0], changes[1]
            raise CheckFailed(
                expected=f"the same answer to {REPEATED_READS} reads of GET {path} with no write in between",
                actual=f"read {first + 1} differs from read {first} and read {second + 1} from read {second}: "
                f"{_difference(bodies[second - 1], bodies[second])}",
                exchange=reads[second],
            )
        ctx.ok(len(reads))


def _difference(before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if set(keys) <= {"result"} and isinstance(before.get("result"), dict):
            return _difference(before["result"], after.get("result"))
        return "; ".join(f"{k}: {before.get(k)!r:.120} then {after.get(k)!r:.120}" for k in keys)
    return f"{before!r:.200} then {after!r:.200}"


def monotonic_reads(ctx: Context) -> None:
    target = ctx.target.immutable
    token_id = target.token_ids[0]
    for version in range(1, 4):
        name = f"conformance version {version} (seed {ctx.seed})"
        refresh = _refresh(ctx, [_item(token_id, name=name)])
        _expect_accepted(ctx, refresh)
        _wait_until_shown(ctx, token_id, {"name": name}, refresh)
        for _ in range(REPEATED_READS):
            again = _get_nft(ctx, token_id)
            shown = _nft(ctx, again, why=f"GET of NFT {token_id}")
            ctx.expect(
                shown.get("name") == name,
                expected=f"every read after version {version} (name {name!r}) was seen to show it, not an older one",
                actual=f"name {shown.get('name')!r}",
                exchange=again,
            )
            ctx.ok()
        listed = _list_nfts(ctx, [("token_id", token_id)])
        names = [nft.get("name") for nft in _nfts(ctx, listed, why="ListNFTs of the refreshed NFT")]
        ctx.expect(names == [name], expected=f"ListNFTs to show version {version} too ({name!r})",
                   actual=f"names {names!r}", exchange=listed)
        ctx.ok()


# Refreshes touch what they name and stamp it.

# Fields of an NFT that a metadata refresh does not set.
_NOT_REFRESHED = ("token_id", "contract_address", "chain", "contract_type", "indexed_at", "total_supply")


def refresh_isolation(ctx: Context) -> None:
    target = ctx.target.immutable
    if len(target.token_ids) < 2:
        raise CheckSkipped("the target lists one NFT; isolation needs a second one to watch")
    refreshed, others = target.token_ids[0], target.token_ids[1:6]
    for token_id in (refreshed, *others):
        if (unrepeatable := _unrepeatable(ctx, token_id, purpose="to tell what a refresh changed")) is not None:
            raise unrepeatable
    before = {token_id: _get_nft(ctx, token_id) for token_id in (refreshed, *others)}
    fields = {"name": f"conformance isolation (seed {ctx.seed})", "description": "only this NFT changes"}
    refresh = _refresh(ctx, [_item(refreshed, **fields)])
    _expect_accepted(ctx, refresh)
    shown = _wait_until_shown(ctx, refreshed, fields, refresh)
    old = _nft(ctx, before[refreshed], why=f"GetNFT of token {refreshed}")
    moved = {key: (old.get(key), shown.get(key)) for key in _NOT_REFRESHED if old.get(key) != shown.get(key)}
    ctx.expect(not moved, expected=f"the refresh to leave {', '.join(_NOT_REFRESHED)} of NFT {refreshed} alone",
               actual=f"changed (before, after): {moved!r:.300}", exchange=refresh)
    for token_id in others:
        after = _get_nft(ctx, token_id)
        ctx.expect(
            after.json() == before[token_id].json(),
            expected=f"a refresh of NFT {refreshed} alone to leave NFT {token_id} as it was",
            actual=f"NFT {token_id} changed: {_difference(before[token_id].json(), after.json())}",
            exchange=refresh,
        )
        ctx.ok()


def _unrepeatable(ctx: Context, token_id: str, *, purpose: str) -> CheckFailed | None:
    """Read NFT `token_id` twice in a row: the finding to report if the reads differ, else None.

    A check that compares reads around a request asks this first, so that a server whose reads change by
    themselves is told so once instead of that request being blamed for the change.
    """
    first, second = _get_nft(ctx, token_id), _get_nft(ctx, token_id)
    if first.json() == second.json():
        return None
    return CheckFailed(
        expected=f"two reads of NFT {token_id} in a row to answer the same ({purpose})",
        actual=f"reads are not repeatable: {_difference(first.json(), second.json())}",
        exchange=second,
    )


def _moment(value: Any) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime (fractions beyond microseconds dropped); None if it is not."""
    if not isinstance(value, str):
        return None
    match = _DATE_TIME.match(value)
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + (fraction or "")[:7] + ("+00:00" if zone in "Zz" else zone))
    except ValueError:
        return None
    return moment


def refresh_timestamps(ctx: Context) -> None:
    target = ctx.target.immutable
    token_id = target.token_ids[0]
    first = _get_nft(ctx, token_id)
    nft = _nft(ctx, first, why=f"GetNFT of token {token_id}")
    latest = {field: _moment(nft.get(field)) for field in _REFRESH_STAMPS}
    for version in range(1, 3):
        fields = {"name": f"conformance timestamps {version} (seed {ctx.seed})"}
        refresh = _refresh(ctx, [_item(token_id, **fields)])
        _expect_accepted(ctx, refresh)
        shown = _wait_until_shown(ctx, token_id, fields, refresh)
        for field in _REFRESH_STAMPS:
            moment, previous = _moment(shown.get(field)), latest[field]
            ctx.expect(
                moment is not None and (previous is None or moment > previous),
                expected=f"{field} later than before the refresh ({previous.isoformat() if previous else 'unset'})"
                " once the refresh is applied",
                actual=f"{field} {shown.get(field)!r}",
                exchange=refresh,
            )
            latest[field] = moment
        again = _get_nft(ctx, token_id)
        reread = _nft(ctx, again, why=f"GetNFT of token {token_id}")
        for field in _REFRESH_STAMPS:
            moment = _moment(reread.get(field))
            ctx.expect(
                moment is not None and moment >= latest[field],  # type: ignore[operator]
                expected=f"{field} never to go back (it was {latest[field]})",
                actual=f"{field} {reread.get(field)!r}",
                exchange=again,
            )
        ctx.ok(2)


# Pagination.


def _walk(
    ctx: Context, query: Sequence[tuple[str, str]], page_size: int, max_pages: int
) -> tuple[list[dict[str, Any]], Exchange, bool]:
    """Follow next_cursor from the first page: the NFTs in order, the last answer, and whether the walk ended.

    Every page must hold at most `page_size` NFTs, none seen on an earlier page, and a cursor not seen before.
    """
    nfts: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursors: set[str] = set()
    cursor: str | None = None
    where = f"ListNFTs?{urlencode([*query, ('page_size', str(page_size))])}"
    for page_number in range(1, max_pages + 1):
        exchange = _list_nfts(ctx, [*query, ("page_size", str(page_size))]
                              + ([("page_cursor", cursor)] if cursor else []))
        page = _nfts(ctx, exchange, why=f"page {page_number} of {where}")
        ctx.expect(
            len(page) <= page_size,
            expected=f"at most page_size={page_size} NFTs on a page",
            actual=f"{len(page)} on page {page_number} of {where}",
            exchange=exchange,
        )
        for nft in page:
            token_id = str(nft.get("token_id"))
            ctx.expect(
                token_id not in seen,
                expected=f"every NFT exactly once across the pages of {where}",
                actual=f"token {token_id} again on page {page_number}",
                exchange=exchange,
            )
            seen.add(token_id)
            nfts.append(nft)
        page_info = exchange.json().get("page")
        cursor = page_info.get("next_cursor") if isinstance(page_info, dict) else None
        if cursor is None or cursor == "":
            return nfts, exchange, True
        ctx.expect(isinstance(cursor, str), expected="next_cursor to be a string or null",
                   actual=f"next_cursor {cursor!r:.80}", exchange=exchange)
        ctx.expect(
            cursor not in cursors,
            expected=f"a new next_cursor on every page of {where}",
            actual=f"page {page_number} hands out a cursor seen before: {cursor!r:.80}",
            exchange=exchange,
        )
        cursors.add(cursor)
    return nfts, exchange, False


def pagination(ctx: Context) -> None:
    target = ctx.target.immutable
    # The whole collection at the largest page size, as far as a quick check goes: the target's NFTs once each.
    everything, last, _ = _walk(ctx, [], MAX_PAGE_SIZE, FULL_WALK_PAGES)
    listed = [str(nft.get("token_id")) for nft in everything]
    missing = [token_id for token_id in target.token_ids if token_id not in listed]
    ctx.expect(not missing or len(listed) >= MAX_PAGE_SIZE * FULL_WALK_PAGES,
               expected=f"ListNFTs to list the target's NFTs {', '.join(target.token_ids)}",
               actual=f"no token {', '.join(missing)} in {len(listed)} NFTs", exchange=last)
    ctx.ok()
    # Filtered walks: a filter that leaves one known NFT out and names one unknown id, at several page sizes.
    known = list(target.token_ids[: MAX_TOKEN_FILTER - 1])
    wanted = known[:-1] if len(known) > 1 else known
    query = [("token_id", token_id) for token_id in [*wanted, _unknown_token_id(ctx)]]
    nfts: list[dict[str, Any]] = []
    for page_size in sorted({1, 2, len(wanted) + 1}):
        bound = -(-len(wanted) // page_size) + 1  # the pages needed, and one more for a last empty page
        nfts, last, ended = _walk(ctx, query, page_size, bound)
        ids = [str(nft.get("token_id")) for nft in nfts]
        filtered = ", ".join(t for _, t in query)
        outside = [token_id for token_id in ids if token_id not in wanted]
        ctx.expect(
            not outside,
            expected=f"token_id filter {filtered} to list only {', '.join(wanted)} (page_size={page_size})",
            actual=f"also listed {', '.join(outside)}",
            exchange=last,
        )
        ctx.expect(
            ended,
            expected=f"a walk of {len(wanted)} NFTs at page_size={page_size} to end within {bound} pages",
            actual=f"page {bound} still hands out a next_cursor",
            exchange=last,
        )
        ctx.expect(
            sorted(ids) == sorted(wanted),
            expected=f"token_id filter {filtered} to list exactly {', '.join(wanted)} "
            f"(page_size={page_size})",
            actual=f"listed {', '.join(ids) or 'nothing'}",
            exchange=last,
        )
        ctx.ok()
    _check_updated_filter(ctx, query, nfts)


def _check_updated_filter(ctx: Context, query: list[tuple[str, str]], nfts: list[dict[str, Any]]) -> None:
    """`from_updated_at` keeps the NFTs updated at or after it: from the oldest all, after the newest none."""
    stamps = sorted((m, nft["updated_at"]) for nft in nfts if (m := _moment(nft.get("updated_at"))) is not None)
    if not stamps:
        return
    oldest, newest = stamps[0], stamps[-1]
    later = (newest[0] + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for since, wanted in (
        (oldest[1], [m for m, _ in stamps]),
        (newest[1], [m for m, _ in stamps if m >= newest[0]]),
        (later, []),
    ):
        exchange = _list_nfts(ctx, [*query, ("from_updated_at", since), ("page_size", str(MAX_PAGE_SIZE))])
        listed = _nfts(ctx, exchange, why=f"ListNFTs from_updated_at={since}")
        ctx.expect(
            len(listed) == len(wanted),
            expected=f"from_updated_at={since} to keep the {len(wanted)} of these NFTs updated at or after it",
            actual=f"{len(listed)} listed",
            exchange=exchange,
        )
        ctx.ok()


# page_size=1 is asked this many times: a server that ignores page_size but happens to have (or generate) at
# most one NFT for a page would pass a single probe by chance, as Stoplight Prism's random pages did.
_SMALLEST_PAGE_PROBES = 8


def page_size_bounds(ctx: Context) -> None:
    collection = ctx.target.immutable.collection
    probes = [("1", 200)] * _SMALLEST_PAGE_PROBES
    probes += [(str(MAX_PAGE_SIZE), 200), ("0", 400), (str(MAX_PAGE_SIZE + 1), 400)]
    for page_size, status in probes:
        exchange = _list_nfts(ctx, [("page_size", page_size)], collection)
        # The bound is this check's rule; the error body of a 400 is error_codes_and_trace_ids'.
        ctx.expect_status(exchange, status, why=f"page_size={page_size}; the spec allows 1 to {MAX_PAGE_SIZE}")
        if status == 200:
            page = _nfts(ctx, exchange, why=f"page_size={page_size}")
            ctx.expect(len(page) <= int(page_size),
                       expected=f"at most {page_size} NFTs", actual=f"{len(page)}", exchange=exchange)
        ctx.ok()


# Credentials.


def credentials(ctx: Context) -> None:
    target = ctx.target.immutable
    key = target.api_key
    cases: list[tuple[str, int, dict[str, str]]] = [
        ("the key as a bearer token in Authorization instead of x-immutable-api-key", 401,
         {"authorization": f"Bearer {key}"}),
        ("the key in Authorization instead of x-immutable-api-key", 401, {"authorization": key}),
        ("the key behind a Bearer scheme in x-immutable-api-key", 401, {"x-immutable-api-key": f"Bearer {key}"}),
        ("the key behind a Basic scheme in x-immutable-api-key", 401, {"x-immutable-api-key": f"Basic {key}"}),
    ]
    if target.foreign_api_key:
        cases.append(("another project's key", 403, {"x-immutable-api-key": target.foreign_api_key}))
    if target.readonly_api_key:
        cases.append(("a key without refresh:metadata", 403, {"x-immutable-api-key": target.readonly_api_key}))
    token_id = target.token_ids[0]
    path = target.collection.base + "/nfts/refresh-metadata"
    unrepeatable = _unrepeatable(ctx, token_id, purpose=_SHOWS_NOTHING_CHANGED)
    for description, status, headers in cases:
        before = _get_nft(ctx, token_id)
        body = {"nft_metadata": [_item(token_id, name=f"conformance: never stored ({description})")]}
        exchange = ctx.send(RequestSpec(method="POST", path=path, headers=headers, json=body))
        ctx.expect_status(exchange, status, why=description)
        check_error_body(ctx, exchange)
        if unrepeatable is None:
            ctx.expect_unchanged(before, _get_nft(ctx, token_id), rejected=exchange)
        ctx.ok()
    if unrepeatable is not None:
        raise unrepeatable


# Bodies.


@cache
def documented_media_types() -> dict[tuple[str, int], frozenset[str]]:
    """The media types each operation documents for each status, as the spec states them."""
    spec = load_spec("immutable")
    found = {}
    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                found[(operation["operationId"], int(status))] = frozenset(response.get("content", {}))
    return found


def response_bodies(ctx: Context) -> None:
    target = ctx.target.immutable
    base = target.collection.base
    token_id = target.token_ids[0]
    refresh_path = base + "/nfts/refresh-metadata"
    body = {"nft_metadata": [_item(token_id, name="conformance: never stored")]}
    own_key = {"x-immutable-api-key": target.api_key}
    unknown_place = _unknown_places(ctx)[1][1]
    cases = [
        ("GetNFT", 200, RequestSpec(method="GET", path=base + f"/nfts/{token_id}")),
        ("GetNFT", 400, RequestSpec(method="GET", path=f"/v1/chains/{target.collection.chain}/collections/0x1/nfts/1")),
        ("GetNFT", 404, RequestSpec(method="GET", path=base + f"/nfts/{_unknown_token_id(ctx)}")),
        ("ListNFTs", 200, RequestSpec(method="GET", path=_list_path(target.collection, [("page_size", "2")]))),
        ("ListNFTs", 400, RequestSpec(method="GET", path=_list_path(target.collection, [("page_size", "0")]))),
        ("ListNFTs", 404, RequestSpec(method="GET", path=_list_path(unknown_place))),
        (OPERATION, 400, RequestSpec(method="POST", path=refresh_path, headers=own_key, json={"nft_metadata": []})),
        (OPERATION, 401, RequestSpec(method="POST", path=refresh_path, json=body)),
        (OPERATION, 404, RequestSpec(method="POST", path=unknown_place.base + "/nfts/refresh-metadata",
                                     headers=own_key, json=body)),
    ]
    if target.readonly_api_key:
        cases.append((OPERATION, 403, RequestSpec(method="POST", path=refresh_path, json=body,
                                                  headers={"x-immutable-api-key": target.readonly_api_key})))
    for operation_id, status, spec in cases:
        exchange = ctx.send(spec)
        ctx.expect_status(exchange, status, why=f"{operation_id} case for {status}")
        documented = documented_media_types()[(operation_id, status)]
        declared = exchange.response.headers.get("content-type", "")
        media_type = declared.split(";", 1)[0].strip().lower()
        ctx.expect(
            media_type in documented,
            expected=f"Content-Type {' or '.join(sorted(documented))} on {operation_id}'s {status}",
            actual=f"Content-Type {declared!r}" if declared else "no Content-Type",
            exchange=exchange,
        )
        ctx.expect(
            bool(exchange.response.content) and exchange.json() is not None,
            expected=f"a JSON body on {operation_id}'s {status}, as documented",
            actual=exchange.summary(),
            exchange=exchange,
        )
        ctx.ok()


# Limits probed at their exact bounds.


def _sized_item(token_id: str, size: int, name: str) -> dict[str, Any]:
    """A refresh item of exactly `size` bytes of compact JSON (ASCII padding, so any encoding agrees)."""
    item = _item(token_id, name=name, description="")
    return {**item, "description": "x" * (size - len(_compact(item)))}


def _sized_list(token_ids: Sequence[str], size: int, name: str) -> list[dict[str, Any]]:
    """Items for `token_ids` whose compact JSON list is exactly `size` bytes: brackets, commas and items."""
    count = len(token_ids)
    share, extra = divmod(size - (count + 1), count)
    return [_sized_item(token_id, share + (1 if index < extra else 0), name)
            for index, token_id in enumerate(token_ids)]


def _spare_token_ids(ctx: Context, count: int) -> list[str]:
    """Well-formed token ids for items beyond the target's: past its ids by 2^64, apart from the unknown ones."""
    start = max(int(token_id) for token_id in ctx.target.immutable.token_ids) + 2**64
    return [str(start + index) for index in range(count)]


def refresh_size_bounds(ctx: Context) -> None:
    target = ctx.target.immutable
    first = target.token_ids[0]
    spare = _spare_token_ids(ctx, MAX_ITEMS)
    at_bound = f"conformance bound (seed {ctx.seed})"
    over = "conformance: never stored, over a bound"
    list_items = -(-MAX_LIST_BYTES // MAX_ITEM_BYTES) + 1  # enough items to reach the list bound
    probes: list[tuple[str, int, list[dict[str, Any]]]] = [
        (f"{MAX_ITEMS} items, the most a request may hold", 202,
         [_item(first, name=at_bound)] + [_item(t) for t in spare[: MAX_ITEMS - 1]]),
        (f"{MAX_ITEMS + 1} items", 400, [_item(first, name=over)] + [_item(t) for t in spare[:MAX_ITEMS]]),
        (f"an item of exactly {MAX_ITEM_BYTES} bytes of JSON", 202, [_sized_item(first, MAX_ITEM_BYTES, at_bound)]),
        (f"an item of {MAX_ITEM_BYTES + 1} bytes of JSON", 400, [_sized_item(first, MAX_ITEM_BYTES + 1, over)]),
        (f"a list of exactly {MAX_LIST_BYTES} bytes of JSON", 202,
         _sized_list([first, *spare[: list_items - 1]], MAX_LIST_BYTES, at_bound)),
        (f"a list of {MAX_LIST_BYTES + 1} bytes of JSON, no item over {MAX_ITEM_BYTES}", 400,
         _sized_list([first, *spare[: list_items - 1]], MAX_LIST_BYTES + 1, over)),
    ]
    unrepeatable = _unrepeatable(ctx, first, purpose=_SHOWS_NOTHING_CHANGED)
    for description, status, items in probes:
        before = _get_nft(ctx, first)
        exchange = _refresh(ctx, items)
        if exchange.response.request.content != _compact({"nft_metadata": items}):
            raise CheckSkipped("the HTTP client did not send the body as compact JSON, so the probes would "
                               "miss the exact bounds; upgrade httpx to 0.28 or later")
        if status == 202:
            _expect_accepted(ctx, exchange, why=f"{description}, within the limit")
        else:
            ctx.expect_status(exchange, 400, why=description)
            check_error_body(ctx, exchange)
            if unrepeatable is None:
                ctx.expect_unchanged(before, _get_nft(ctx, first), rejected=exchange)
        ctx.ok()
    if unrepeatable is not None:
        raise unrepeatable


# Rate limit coherence.


def rate_limit_coherence(ctx: Context) -> None:
    target = ctx.target.immutable
    token_id = target.token_ids[0]
    first = _refresh(ctx, [_item(token_id, name=f"conformance coherence 1 (seed {ctx.seed})")])
    _expect_accepted(ctx, first)
    quota = check_accepted(ctx, first, None)
    if quota.remaining == 0:
        raise CheckSkipped("the refresh that opened this check spent the project's last refresh")
    rejected = [(case.description, case.status, case.spec) for case in _error_cases(ctx, f"seed{ctx.seed}")
                if case.spec.method == "POST"]
    item = _item(token_id, name="conformance: never stored")
    rejected.append(("the same token_id twice", 400, RequestSpec(
        method="POST", path=target.collection.base + "/nfts/refresh-metadata",
        headers={"x-immutable-api-key": target.api_key}, json={"nft_metadata": [item, item]})))
    _, unknown_place = _unknown_places(ctx)[1]
    rejected.append(("an unknown collection", 404, RequestSpec(
        method="POST", path=unknown_place.base + "/nfts/refresh-metadata",
        headers={"x-immutable-api-key": target.api_key}, json={"nft_metadata": [item]})))
    for description, status, spec in rejected:
        ctx.expect_status(ctx.send(spec), status, why=description)
        ctx.ok()
    second = _refresh(ctx, [_item(token_id, name=f"conformance coherence 2 (seed {ctx.seed})")])
    statuses = ", ".join(sorted({str(status) for _, status, _ in rejected}))
    ctx.expect(
        second.status == 202,
        expected=f"a 202: {quota.remaining} refreshes remained before {len(rejected)} rejected requests "
        f"({statuses}), which spend nothing",
        actual=second.summary(),
        exchange=second,
    )
    after = read_quota(ctx, second)
    if after.reset == quota.reset:  # the same window
        ctx.expect(
            after.remaining == quota.remaining - 1,
            expected=f"imx-remaining-refreshes {quota.remaining - 1}: one refresh accepted since it was "
            f"{quota.remaining}, and the {len(rejected)} rejected requests in between ({statuses}) spend nothing",
            actual=f"imx-remaining-refreshes {after.remaining}",
            exchange=second,
        )
    check_accepted(ctx, second, quota)
    ctx.ok(2)


# Immutable's OpenAPI gives maxItems 250 and says only that the list "should not exceed 228 KiB" and each
# object "should not exceed 16 KiB"; bytes of what, whether the token id counts and whether the bound itself
# is allowed are this project's reading (specs/immutable.yaml, BEHAVIOUR.md).
# Stacked metadata: RefreshMetadataByID, GetMetadata, ListMetadata.

STACKED_OPERATION = "RefreshMetadataByID"


def _stacked_item(metadata_id: str, **metadata: Any) -> dict[str, Any]:
    """A stacked refresh item with every key the schema requires."""
    item = _item(metadata_id, **metadata)
    item["metadata_id"] = item.pop("token_id")
    return item


def _refresh_stacked(ctx: Context, items: list[dict[str, Any]]) -> Exchange:
    target = ctx.target.immutable
    return ctx.send(RequestSpec(method="POST", path=target.collection.base + "/metadata/refresh-metadata",
                                headers={"x-immutable-api-key": target.api_key}, json={"metadata": items}))


def _get_metadata(ctx: Context, metadata_id: str) -> Exchange:
    return ctx.http.get(ctx.target.immutable.collection.base + f"/metadata/{metadata_id}")


def _metadata_ids(ctx: Context) -> tuple[str, ...]:
    metadata_ids = immutable_of(ctx.target).metadata_ids
    if not metadata_ids:
        raise CheckSkipped("the target names no stacked metadata (immutable.metadata_ids)")
    return metadata_ids


def _carriers(ctx: Context, metadata_id: str) -> list[str]:
    """The token ids of the collection's NFTs whose metadata_id is `metadata_id` (walking ListNFTs)."""
    carriers: list[str] = []
    query: list[tuple[str, str]] = [("page_size", str(MAX_PAGE_SIZE))]
    for _ in range(FULL_WALK_PAGES):
        exchange = _list_nfts(ctx, query)
        carriers += [str(nft.get("token_id")) for nft in _nfts(ctx, exchange, why="ListNFTs of the collection")
                     if str(nft.get("metadata_id") or "").lower() == metadata_id]
        cursor = (exchange.json() or {}).get("page", {}).get("next_cursor")
        if not cursor:
            break
        query = [("page_size", str(MAX_PAGE_SIZE)), ("page_cursor", cursor)]
    return carriers


def _wait_until(ctx: Context, read: Any, fields: dict[str, Any], refresh: Exchange, *, what: str) -> None:
    """Poll `read` until the object it answers shows `fields` (stacked refreshes are asynchronous)."""
    timeout = ctx.target.immutable.refresh_timeout
    deadline = time.monotonic() + timeout
    while True:
        exchange = read()
        shown = _result(ctx, exchange, why=f"{what} after a stacked refresh")
        shown = shown if isinstance(shown, dict) else {}
        differing = {k: shown.get(k) for k, v in fields.items() if _normalise(k, shown.get(k)) != _normalise(k, v)}
        if not differing:
            return
        if time.monotonic() >= deadline:
            raise CheckFailed(
                expected=f"{what} to show the refreshed stacked metadata {fields!r} within {timeout:g} s",
                actual=f"still {differing!r}", exchange=refresh,
            )
        time.sleep(_POLL_INTERVAL)


def stacked_refresh_visible(ctx: Context) -> None:
    metadata_id = _metadata_ids(ctx)[0]
    carriers = _carriers(ctx, metadata_id)

    @given(name=texts(), description=texts())
    def test(name: str, description: str) -> None:
        fields = {"name": name, "description": description}
        exchange = _refresh_stacked(ctx, [_stacked_item(metadata_id, **fields)])
        _expect_accepted(ctx, exchange, why="a valid stacked refresh by the collection's owner")
        check_accepted(ctx, exchange, None)
        _wait_until(ctx, lambda: _get_metadata(ctx, metadata_id), fields, exchange,
                    what=f"GetMetadata of {metadata_id}")
        for token_id in carriers:
            _wait_until(ctx, lambda token_id=token_id: _get_nft(ctx, token_id), fields, exchange,
                        what=f"GetNFT of NFT {token_id}, which carries metadata {metadata_id}")
        ctx.ok(1 + len(carriers))

    ctx.given(test)


def stacked_shared_budget(ctx: Context) -> None:
    target = ctx.target.immutable
    metadata_id = _metadata_ids(ctx)[0]
    exchanges = [
        _refresh(ctx, [_item(target.token_ids[0], name=f"conformance budget 1 (seed {ctx.seed})")]),
        _refresh_stacked(ctx, [_stacked_item(metadata_id, name=f"conformance budget 2 (seed {ctx.seed})")]),
        _refresh(ctx, [_item(target.token_ids[0], name=f"conformance budget 3 (seed {ctx.seed})")]),
    ]
    quota: Quota | None = None
    for exchange in exchanges:
        _expect_accepted(ctx, exchange)
        if quota is not None and quota.remaining == 0:
            raise CheckSkipped("the project's refresh quota ran out during the check")
        # Counting down by one from the previous answer, whichever operation it came from: one budget.
        quota = check_accepted(ctx, exchange, quota)
        ctx.ok()


def stacked_unknown_metadata(ctx: Context) -> None:
    metadata_id = _metadata_ids(ctx)[0]
    listed = _result(ctx, ctx.http.get(ctx.target.immutable.collection.base + "/metadata?page_size=200"),
                     why="ListMetadata of the collection")
    known = {str(m.get("id")).lower() for m in listed or [] if isinstance(m, dict)}
    unknown = next(f"00000000-0000-4000-8000-{n:012x}" for n in range(1, len(known) + 2)
                   if f"00000000-0000-4000-8000-{n:012x}" not in known)
    before = _get_metadata(ctx, metadata_id)
    exchange = _refresh_stacked(ctx, [_stacked_item(metadata_id, name="conformance: never stored"),
                                      _stacked_item(unknown, name="conformance: never stored")])
    ctx.expect_status(exchange, 404, why=f"metadata {unknown} is not the collection's")
    check_error_body(ctx, exchange)  # RESOURCE_NOT_FOUND, the code of a 404
    ctx.expect_unchanged(before, _get_metadata(ctx, metadata_id), rejected=exchange)
    read = _get_metadata(ctx, unknown)
    ctx.expect_status(read, 404, why=f"GetMetadata of {unknown}, which the collection does not have")
    ctx.ok(2)


_SIZE_LIMITS_READING = (
    "Immutable OpenAPI, RefreshNFTMetadataByTokenID: maxItems 250; 'Total size of the list should not exceed "
    "228 KiB', 'Total size of this object should not exceed 16 KiB'. This project's reading (specs/immutable.yaml): "
    "at most 233,472 and 16,384 bytes of JSON, the bound allowed; probed as compact UTF-8 JSON, token_id included"
)

CHECKS = (
    BehaviourCheck(
        name="error_codes_and_trace_ids",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, RefreshNFTMetadataByTokenID: error responses and their codes",
        api="immutable",
        operation_id=OPERATION,
        destructive=False,
        run=error_codes,
        description="Every error carries the code of its status (401 UNAUTHORISED_REQUEST, 403 "
        "AUTHENTICATION_ERROR, 404 RESOURCE_NOT_FOUND, 400 VALIDATION_ERROR) and a new trace_id.",
    ),
    BehaviourCheck(
        name="body_limits",
        # The vendor states the sizes only as "should not exceed"; what is measured is this project's reading.
        source=RuleSource.PROJECT,
        cite=_SIZE_LIMITS_READING,
        api="immutable",
        operation_id=OPERATION,
        destructive=False,
        run=body_limits,
        description="251 items, a duplicate token_id, an item over 16 KiB or a list over 228 KiB is 400 "
        "VALIDATION_ERROR, and the NFT is unchanged.",
    ),
    BehaviourCheck(
        name="unknown_resources",
        source=RuleSource.PROJECT,
        cite="specs/immutable.yaml, rules for all six operations and GetNFT: an unknown chain, collection or "
        "token is 404 RESOURCE_NOT_FOUND (BEHAVIOUR.md, Immutable: Path)",
        api="immutable",
        operation_id="GetNFT",
        destructive=False,
        run=unknown_resources,
        description="Well-formed but unknown chains, collections and token ids (derived from the target's) are "
        "404 RESOURCE_NOT_FOUND on every operation, and a refresh on one creates nothing.",
    ),
    BehaviourCheck(
        name="nft_identity",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI (ts-immutable-sdk), GetNFT 'Get NFT by token ID' and ListNFTs token_id filter",
        api="immutable",
        operation_id="GetNFT",
        destructive=False,
        run=nft_identity,
        description="GetNFT and a token_id-filtered ListNFTs answer the NFTs asked for: token_id, "
        "contract_address and chain match the request.",
    ),
    BehaviourCheck(
        name="reads_repeatable",
        source=RuleSource.PROJECT,
        cite="BEHAVIOUR.md, Everywhere: real state that persists; specs/immutable.yaml GetNFT: metadata changes "
        "only when a refresh is applied",
        api="immutable",
        operation_id="GetNFT",
        destructive=False,
        run=reads_repeatable,
        description="GetNFT and ListNFTs read several times in a row, with no write in between, answer the same "
        "(one change that stays is allowed: a refresh accepted earlier landing).",
    ),
    BehaviourCheck(
        name="pagination",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI (ts-immutable-sdk), ListNFTs: page_size, page_cursor, next_cursor, token_id and "
        "from_updated_at",
        api="immutable",
        operation_id="ListNFTs",
        destructive=False,
        run=pagination,
        description="Walking ListNFTs by next_cursor at several page sizes lists every NFT exactly once, at most "
        "page_size per page, ends, and keeps only what the token_id and from_updated_at filters ask for.",
    ),
    BehaviourCheck(
        name="page_size_bounds",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI (ts-immutable-sdk), PageSize: minimum 1, maximum 200",
        api="immutable",
        operation_id="ListNFTs",
        destructive=False,
        run=page_size_bounds,
        description="page_size 1 and 200 are accepted (at most that many NFTs); 0 and 201 are 400.",
    ),
    BehaviourCheck(
        name="credentials",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, securitySchemes.ImmutableApiKey (apiKey in header x-immutable-api-key); "
        "401/403 responses",
        api="immutable",
        operation_id=OPERATION,
        destructive=False,
        run=credentials,
        description="The API key in another header or behind a scheme (Bearer, Basic) is 401; another "
        "project's key or one without refresh:metadata is 403; the NFT is unchanged.",
    ),
    BehaviourCheck(
        name="response_bodies",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI: the content documented for each response of the three operations",
        api="immutable",
        operation_id=OPERATION,
        destructive=False,
        run=response_bodies,
        description="Every status of the three operations answers with exactly its documented Content-Type "
        "(application/json) and a JSON body.",
    ),
    BehaviourCheck(
        name="refresh_isolation",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, RefreshNFTMetadataByTokenID: nft_metadata is the 'List of nft metadata to be "
        "refreshed', each item naming its token_id",
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=refresh_isolation,
        description="A refresh changes only the NFT it names: the collection's other NFTs read the same, and "
        "the refreshed one keeps its token_id, contract, chain, type, indexed_at and supply.",
    ),
    BehaviourCheck(
        name="monotonic_reads",
        source=RuleSource.PROJECT,
        cite="specs/immutable.yaml GetNFT: refreshed metadata shows once the refresh has been applied "
        "(BEHAVIOUR.md, Immutable: refresh is asynchronous)",
        api="immutable",
        operation_id="GetNFT",
        destructive=True,
        run=monotonic_reads,
        description="Once GetNFT has shown a refresh, no later GetNFT or ListNFTs shows the older metadata.",
    ),
    BehaviourCheck(
        name="refresh_timestamps",
        source=RuleSource.PROJECT,
        cite="specs/immutable.yaml NFT.updated_at and metadata_synced_at: set when a refresh is applied "
        "(BEHAVIOUR.md, Immutable)",
        api="immutable",
        operation_id="GetNFT",
        destructive=True,
        run=refresh_timestamps,
        description="updated_at and metadata_synced_at move later with each applied refresh and never go back.",
    ),
    BehaviourCheck(
        name="refresh_size_bounds",
        source=RuleSource.PROJECT,
        cite=_SIZE_LIMITS_READING,
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=refresh_size_bounds,
        description="250 items, an item of exactly 16,384 bytes and a list of exactly 233,472 bytes of JSON "
        "are accepted; one more item or byte is 400 and changes nothing.",
    ),
    BehaviourCheck(
        name="refresh_visible",
        source=RuleSource.VENDOR_PAGE,
        cite="Immutable docs, 'Refresh NFT metadata': metadata is refreshed asynchronously",
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=refresh_visible,
        description="Refreshed metadata shows in GET NFT (polled up to the target's refresh_timeout) "
        "with metadata_synced_at set.",
    ),
    BehaviourCheck(
        name="rate_limit_headers",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, MetadataRefreshRateLimit* headers on 202",
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=refresh_quota,
        description="imx-remaining-refreshes falls by one per accepted refresh (not for rejected ones), "
        "the limit stays, the reset is a stable future time, the body mirrors the headers.",
    ),
    BehaviourCheck(
        name="rate_limit_coherence",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, MetadataRefreshRateLimit* headers and body; specs/immutable.yaml: only requests "
        "that pass authentication and validation count",
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=rate_limit_coherence,
        description="Rejected refreshes (400, 401, 403, 404) between two accepted ones spend nothing, and each "
        "202 mirrors its headers in the body.",
    ),
    BehaviourCheck(
        name="stacked_unknown_metadata",
        source=RuleSource.PROJECT,
        cite="specs/immutable.yaml RefreshMetadataByID and GetMetadata: a metadata_id the collection does not have "
        "is 404 RESOURCE_NOT_FOUND and nothing is refreshed (BEHAVIOUR.md, Immutable: Stacked metadata)",
        api="immutable",
        operation_id=STACKED_OPERATION,
        destructive=False,
        run=stacked_unknown_metadata,
        description="A stacked refresh naming a metadata_id the collection does not list is 404 "
        "RESOURCE_NOT_FOUND and leaves the known metadata it also names unchanged; GetMetadata of it is 404.",
    ),
    BehaviourCheck(
        name="stacked_refresh_visible",
        source=RuleSource.PROJECT,
        cite="Immutable OpenAPI, RefreshMetadataByID 'Refresh stacked metadata' and NFT.metadata_id; "
        "specs/immutable.yaml: after the refresh delay the metadata and every NFT carrying it show the values",
        api="immutable",
        operation_id=STACKED_OPERATION,
        destructive=True,
        run=stacked_refresh_visible,
        description="Refreshed stacked metadata shows in GetMetadata and in every NFT of the collection whose "
        "metadata_id is its id (polled up to the target's refresh_timeout).",
    ),
    BehaviourCheck(
        name="stacked_shared_budget",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, MetadataRefreshLimit on both refresh operations: 'The refresh request limit "
        "available to the project for each one-hour window'",
        api="immutable",
        operation_id=STACKED_OPERATION,
        destructive=True,
        run=stacked_shared_budget,
        description="A refresh by token id, a stacked refresh and another refresh by token id count down one "
        "imx-remaining-refreshes: the project has one budget for both operations.",
    ),
    # Last: it leaves the project's quota spent until the window resets.
    BehaviourCheck(
        name="quota_exhaustion",
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, RefreshNFTMetadataByTokenID 429 TooManyMetadataRefreshes",
        api="immutable",
        operation_id=OPERATION,
        destructive=True,
        run=quota_exhaustion,
        description="Once the quota is spent, refreshes get 429 TOO_MANY_REQUESTS_ERROR with "
        "Retry-After ≥ 1 agreeing with imx-refresh-limit-reset, and imx-remaining-refreshes 0.",
    ),
)
