"""How Schemathesis' verdicts are folded into findings: only what the spec rules out is a failure."""

from __future__ import annotations

from typing import Any

from tests.conformance.conftest import failed_checks, mock_app, run_suite, serve

REFRESH_SUFFIX = "/nfts/refresh-metadata"


def _get_nft_route_wins(app: Any) -> Any:
    """The mock, but routing `GET .../nfts/refresh-metadata` to GetNFT (as Prism does) instead of answering 405.

    It then answers what its GetNFT answers for a token id that is not a uint256: 400 VALIDATION_ERROR.
    """

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].endswith(REFRESH_SUFFIX):
            path = scope["path"][: -len(REFRESH_SUFFIX)] + "/nfts/refresh_metadata"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return wrapped


def test_a_method_another_template_declares_for_the_same_url_is_no_undeclared_method() -> None:
    # GET .../nfts/refresh-metadata is also GetNFT with token_id "refresh-metadata": 405 and 400 both conform.
    with serve(_get_nft_route_wins(mock_app())) as url:
        result = run_suite(url, "immutable", examples=8)
    assert failed_checks(result) == set()
    [unsupported] = [r for r in result.results if r.operation.operation_id == "RefreshNFTMetadataByTokenID"
                     and r.check == "unsupported_method"]
    assert unsupported.passed > 0  # the other undeclared methods are still checked
