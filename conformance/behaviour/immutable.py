"""Immutable zkEVM: refresh quota and rate headers, error codes and trace ids, body limits, async refresh."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance._specs import load_spec
from conformance.behaviour.base import BehaviourCheck, CheckFailed, CheckSkipped, Context, RuleSource
from conformance.behaviour.strategies import slugs, texts
from conformance.exchange import Exchange, RequestSpec
from conformance.target import Collection

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
    """The server's idea of now (its Date header) if it sends one, else ours; whichever is later."""
    local = datetime.now(tz=UTC)
    date = exchange.response.headers.get("date")
    if date:
        try:
            return max(local, parsedate_to_datetime(date))
        except (TypeError, ValueError):
            return local
    return local


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
        if exchange.status == 429:
            raise CheckSkipped("the project's refresh quota is spent (429); rerun once the window resets")
        ctx.expect_status(exchange, 202, why="a valid refresh")
        deadline = time.monotonic() + target.refresh_timeout
        while True:
            shown = _get_nft(ctx, token_id)
            ctx.expect_status(shown, 200, why=f"GET of NFT {token_id} after its refresh")
            nft = (shown.json() or {}).get("result", {})
            differing = {
                k: nft.get(k) for k, v in fields.items() if _normalise(k, nft.get(k)) != _normalise(k, v)
            }
            if not differing and nft.get("metadata_synced_at"):
                break
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    expected=f"GET NFT to show the refreshed metadata {fields!r} with metadata_synced_at set "
                    f"within {target.refresh_timeout:g} s",
                    actual=f"still {differing!r}, metadata_synced_at {nft.get('metadata_synced_at')!r}",
                    exchange=exchange,
                )
            time.sleep(_POLL_INTERVAL)
        ctx.ok(2)

    ctx.given(test)


def _normalise(key: str, value: Any) -> Any:
    if key == "attributes" and isinstance(value, list):
        return [
            {"trait_type": a.get("trait_type"), "value": a.get("value")} for a in value if isinstance(a, dict)
        ]
    return value


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
        source=RuleSource.VENDOR_OPENAPI,
        cite="Immutable OpenAPI, RefreshNFTMetadataByTokenID: 250 items, 228 KiB in all, 16 KiB per item",
        api="immutable",
        operation_id=OPERATION,
        destructive=False,
        run=body_limits,
        description="251 items, a duplicate token_id, an item over 16 KiB or a list over 228 KiB is 400 "
        "VALIDATION_ERROR, and the NFT is unchanged.",
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
        "Retry-After ≥ 1 and imx-remaining-refreshes 0.",
    ),
)
