"""The suite against deliberately broken variants of the mock: every check catches the breakage it is about."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest

import mockserver.apis.immutable
import mockserver.apis.immutable.service
import mockserver.apis.rair
import mockserver.apis.rair.service
import mockserver.apis.tokenization
from conformance.apis import CHECKS as BEHAVIOUR_CHECKS
from conformance.schema_checks import SCHEMA_CHECKS
from mockserver.apis.immutable.service import METADATA
from mockserver.apis.tokenization.service import TOKENS
from mockserver.store import Scheduled
from tests.conformance import variants
from tests.conformance.conftest import failed_checks, mock_app, run_suite, serve

Patch = Callable[[Any, pytest.MonkeyPatch], None]


@dataclasses.dataclass(frozen=True)
class Variant:
    """A broken mock: how to break it, which API to run, and the (operation, check) pairs that must fail."""

    api: str
    expected: set[tuple[str, str]]
    wrap: Callable[[Any], Any] | None = None
    patch: Patch | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    target: dict[str, Any] = dataclasses.field(default_factory=dict)
    destructive: bool = False


def _rair_records(app: Any) -> Any:
    return app.services.service_of(mockserver.apis.rair.API).records


def _immutable(app: Any) -> Any:
    return app.services.service_of(mockserver.apis.immutable.API)


def _tokenization(app: Any) -> Any:
    return app.services.service_of(mockserver.apis.tokenization.API)


def _rair_update_not_stored(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _rair_records(app)
    monkeypatch.setattr(records, "update_token", lambda key, changes: records.token(key))


def _rair_accepts_any_file(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    families = ("image/", "video/", "audio/", "text/", "application/")
    monkeypatch.setattr(mockserver.apis.rair.service, "MEDIA_FAMILIES", families)


def _immutable_no_size_limits(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_ITEM_BYTES", 10**9)
    monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_LIST_BYTES", 10**9)


def _immutable_bounds(item: int, total: int) -> Patch:
    """Immutable's per-item and per-list byte limits moved by `item` and `total` bytes from the spec's."""

    def patch(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_ITEM_BYTES", 16 * 1024 + item)
        monkeypatch.setattr(mockserver.apis.immutable.service, "MAX_LIST_BYTES", 228 * 1024 + total)

    return patch


def _immutable_rejected_refreshes_spend(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quota is spent before the request is validated or authorised, so rejected refreshes cost one each."""
    service = _immutable(app)
    refresh = service.refresh

    def spend_first(key: Any, *args: Any) -> Any:
        service.limiter.hit(key.project)
        return refresh(key, *args)

    monkeypatch.setattr(service, "refresh", spend_first)


def _tokenization_removes_anything(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tokenization(app), "_removal_ids", lambda token, field, raw: set())


def _tokenization_any_file_type(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tokenization(app), "_check_upload", lambda upload: "image/png")


def _rair_updates_neighbour(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _rair_records(app)
    update = records.update_token

    def also_next(key: Any, changes: Any) -> Any:
        network, contract, product, token = key
        if records.token((network, contract, product, token + 1)) is not None:
            update((network, contract, product, token + 1), changes)
        return update(key, changes)

    monkeypatch.setattr(records, "update_token", also_next)


def _rair_any_media_name(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every value counts as an absolute URL, so a name matching no upload is stored as is.
    monkeypatch.setattr(mockserver.apis.rair.service, "_ABSOLUTE_URL", re.compile(""))


def _tokenization_creates_unknown(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _tokenization(app)
    store, update = app.services.store, service.update_token

    def create_then_update(token_id: str, form: Any, uploads: Any) -> None:
        if service.records.token(token_id) is None:
            fresh = copy.deepcopy(service.records.token(TOKENIZATION_TOKEN))
            fresh.update(id=token_id.lower(), meta={"images": [], "documents": []})
            # The store adds a record only beside an update of another: "update" a known token to create it.
            store.update(TOKENS, (TOKENIZATION_TOKEN,), lambda _: {TOKENS: {(token_id.lower(),): fresh}})
        update(token_id, form, uploads)

    monkeypatch.setattr(service, "update_token", create_then_update)


def _tokenization_updates_neighbour(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _tokenization(app)
    update = service.update_token

    def also_neighbour(token_id: str, form: Any, uploads: Any) -> None:
        update(token_id, form, uploads)
        if token_id.lower() == TOKENIZATION_TOKEN:
            update(TOKENIZATION_NEIGHBOUR, form, [])

    monkeypatch.setattr(service, "update_token", also_neighbour)


def _tokenization_ignores_removals(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _tokenization(app)
    removal_ids = service._removal_ids

    def validated_then_dropped(token: Any, field: str, raw: str | None) -> set[str]:
        removal_ids(token, field, raw)  # foreign ids are still refused
        return set()

    monkeypatch.setattr(service, "_removal_ids", validated_then_dropped)


def _tokenization_image_removal_drops_a_document(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Removing an image also removes the token's newest document, as a server removing by upload batch might."""
    service = _tokenization(app)
    removal_ids = service._removal_ids
    removing_images: list[bool] = [False]

    def also_newest_document(token: Any, field: str, raw: str | None) -> set[str]:
        ids = removal_ids(token, field, raw)
        if field == "remove_image_ids":  # asked first, for the same update
            removing_images[0] = bool(ids)
        elif removing_images[0] and token["meta"]["documents"]:
            ids = ids | {token["meta"]["documents"][-1]["id"]}
        return ids

    monkeypatch.setattr(service, "_removal_ids", also_newest_document)


def _immutable_stacked_refresh_skips_nfts(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stacked refresh changes the metadata but none of the NFTs carrying it."""
    store = app.services.store

    def metadata_only(due: float, key: Any, metadata: dict[str, Any]) -> None:
        store.schedule(METADATA, [Scheduled(due, key, {"metadata": metadata})])

    monkeypatch.setattr(_immutable(app).records, "schedule_metadata_refresh", metadata_only)


TOKENIZATION_TOKEN = "67d8774e903bfcbe7eb5d93e"
TOKENIZATION_NEIGHBOUR = "67d8774e903bfcbe7eb5d950"
TEN_MIB = 10 * 1024 * 1024
REFRESH = "RefreshNFTMetadataByTokenID"
STACKED = "RefreshMetadataByID"
VARIANTS = {
    # Schemathesis checks.
    "500 on some input": Variant("immutable", {("ListNFTs", "not_a_server_error")},
                                 wrap=variants.server_error_on_page_size),
    "undocumented status": Variant("tokenization", {("getToken", "status_code_conformance")},
                                   wrap=variants.undocumented_status),
    "wrong content type": Variant("tokenization", {("getToken", "content_type_conformance")},
                                  wrap=variants.wrong_content_type),
    "missing rate header": Variant("immutable", {(REFRESH, "response_headers_conformance"),
                                                 (REFRESH, "rate_limit_headers")},
                                   wrap=variants.missing_rate_header, destructive=True),
    "body off schema": Variant("rair", {("getToken", "response_schema_conformance")},
                               wrap=variants.rair_body_without_success),
    "invalid input accepted": Variant("tokenization", {("updateToken", "negative_data_rejection"),
                                                       ("updateToken", "percentage_out_of_range")},
                                      wrap=variants.invalid_input_accepted),
    "valid input rejected": Variant("rair", {("updateTokenMetadata", "positive_data_acceptance"),
                                             ("updateTokenMetadata", "update_round_trip")},
                                    wrap=variants.valid_input_rejected, destructive=True),
    "auth ignored": Variant("tokenization", {("getToken", "ignored_auth"), ("getToken", "missing_required_header")},
                            wrap=variants.auth_ignored),
    # The path of both operations: Schemathesis files undeclared methods under the first one (PUT).
    "405 without Allow": Variant("tokenization", {("updateToken", "unsupported_method")},
                                 wrap=variants.not_allowed_without_allow),
    "wrong Allow header": Variant("tokenization", {("updateToken", "allow_header_conformance")},
                                  wrap=variants.wrong_allow_header),
    # RAIR behaviour.
    "rair update not stored": Variant("rair", {("updateTokenMetadata", "update_round_trip")},
                                      patch=_rair_update_not_stored, destructive=True),
    "rair non-owner allowed": Variant("rair", {("updateTokenMetadata", "non_owner_forbidden")},
                                      wrap=variants.non_owner_allowed),
    "rair non-media accepted": Variant("rair", {("updateTokenMetadata", "non_media_rejected")},
                                       patch=_rair_accepts_any_file),
    "rair uploads not served": Variant("rair", {("updateTokenMetadata", "uploaded_file_served")},
                                       wrap=variants.uploads_not_served, destructive=True),
    # Immutable behaviour.
    "stale trace id": Variant("immutable", {(REFRESH, "error_codes_and_trace_ids")}, wrap=variants.stale_trace_id),
    "wrong error code": Variant("immutable", {(REFRESH, "error_codes_and_trace_ids")},
                                wrap=variants.wrong_error_code),
    "size limits not enforced": Variant("immutable", {(REFRESH, "body_limits")}, patch=_immutable_no_size_limits),
    "refresh never applied": Variant("immutable", {(REFRESH, "refresh_visible")},
                                     settings={"immutable.refresh_delay": 3600},
                                     target={"immutable": {"refresh_timeout": 0.3}}, destructive=True),
    "remaining does not fall": Variant("immutable", {(REFRESH, "rate_limit_headers")},
                                       wrap=variants.remaining_does_not_fall, destructive=True),
    # A short refresh_timeout: refreshes "accepted" past the quota are never applied, and waiting adds nothing.
    "quota not enforced": Variant("immutable", {(REFRESH, "quota_exhaustion")}, wrap=variants.quota_not_enforced,
                                  settings={"immutable.rate_limit.limit": 5}, destructive=True,
                                  target={"immutable": {"refresh_timeout": 0.3}}),
    "unknown NFT answered with NFT 1": Variant("immutable", {("GetNFT", "unknown_resources"),
                                                             ("GetNFT", "nft_identity")},
                                               wrap=variants.every_nft_is_the_first),
    "collection in path ignored": Variant("immutable", {("GetNFT", "unknown_resources")},
                                          wrap=variants.collection_in_path_ignored),
    "reads stamp updated_at": Variant("immutable", {("GetNFT", "reads_repeatable")},
                                      wrap=variants.read_time_in_updated_at),
    "list page repeats an item": Variant("immutable", {("ListNFTs", "pagination")},
                                         wrap=variants.list_page_repeats_item),
    "list cursor never ends": Variant("immutable", {("ListNFTs", "pagination")},
                                      wrap=variants.list_cursor_never_ends),
    "list page_size ignored": Variant("immutable", {("ListNFTs", "pagination")},
                                      wrap=variants.list_page_size_ignored),
    "list token_id filter ignored": Variant("immutable", {("ListNFTs", "pagination")},
                                            wrap=variants.list_token_filter_ignored),
    "list from_updated_at ignored": Variant("immutable", {("ListNFTs", "pagination")},
                                            wrap=variants.list_updated_filter_ignored),
    "list page_size clamped": Variant("immutable", {("ListNFTs", "page_size_bounds")},
                                      wrap=variants.list_page_size_clamped),
    "api key scheme ignored": Variant("immutable", {(REFRESH, "credentials")},
                                      wrap=variants.api_key_scheme_ignored),
    "immutable errors as text": Variant("immutable", {(REFRESH, "response_bodies")},
                                        wrap=variants.immutable_errors_as_text),
    "refresh touches neighbour": Variant("immutable", {(REFRESH, "refresh_isolation")},
                                         wrap=variants.refresh_touches_neighbour, destructive=True),
    "stale NFT reads": Variant("immutable", {("GetNFT", "monotonic_reads")}, wrap=variants.stale_nft_reads,
                               destructive=True),
    "metadata_synced_at frozen": Variant("immutable", {("GetNFT", "refresh_timestamps")},
                                         wrap=variants.frozen_metadata_synced_at, destructive=True),
    # One byte either side of each bound: the probes are at exactly 16,384 / 233,472 bytes and one more.
    "item bound exclusive": Variant("immutable", {(REFRESH, "refresh_size_bounds")},
                                    patch=_immutable_bounds(item=-1, total=0), destructive=True),
    "item bound one over": Variant("immutable", {(REFRESH, "refresh_size_bounds")},
                                   patch=_immutable_bounds(item=1, total=0), destructive=True),
    "list bound exclusive": Variant("immutable", {(REFRESH, "refresh_size_bounds")},
                                    patch=_immutable_bounds(item=0, total=-1), destructive=True),
    "list bound one over": Variant("immutable", {(REFRESH, "refresh_size_bounds")},
                                   patch=_immutable_bounds(item=0, total=1), destructive=True),
    "rejected refreshes spend quota": Variant("immutable", {(REFRESH, "rate_limit_coherence")},
                                              patch=_immutable_rejected_refreshes_spend, destructive=True),
    "429 Retry-After past the reset": Variant("immutable", {(REFRESH, "quota_exhaustion")},
                                              wrap=variants.retry_after_past_reset,
                                              settings={"immutable.rate_limit.limit": 5}, destructive=True),
    "stacked refresh skips the NFTs carrying it": Variant(
        "immutable", {(STACKED, "stacked_refresh_visible")}, patch=_immutable_stacked_refresh_skips_nfts,
        target={"immutable": {"refresh_timeout": 0.3}}, destructive=True),
    "a budget per refresh operation": Variant("immutable", {(STACKED, "stacked_shared_budget")},
                                              settings={"immutable.rate_limit.shared": False}, destructive=True),
    "unknown stacked metadata accepted": Variant("immutable", {(STACKED, "stacked_unknown_metadata")},
                                                 wrap=variants.stacked_unknown_metadata_accepted),
    # Tokenization behaviour.
    "tokenization update dropped": Variant("tokenization", {("updateToken", "update_round_trip")},
                                           wrap=variants.tokenization_update_dropped, destructive=True),
    "foreign id removal accepted": Variant("tokenization", {("updateToken", "foreign_id_removal")},
                                           patch=_tokenization_removes_anything),
    "file limit not enforced": Variant("tokenization", {("updateToken", "file_too_large")},
                                       settings={"tokenization.max_file_bytes": 64 * 1024 * 1024,
                                                 "tokenization.max_request_bytes": 64 * 1024 * 1024}),
    "any file type accepted": Variant("tokenization", {("updateToken", "wrong_file_type")},
                                      patch=_tokenization_any_file_type),
    # RAIR rules of the behaviour checks added for issue 16.
    "rair unknown token updated": Variant("rair", {("updateTokenMetadata", "unknown_resources")},
                                          wrap=variants.rair_unknown_token_updated),
    "rair update changes the next token": Variant("rair", {("updateTokenMetadata", "isolation")},
                                                  patch=_rair_updates_neighbour, destructive=True),
    "rair stale reads": Variant("rair", {("updateTokenMetadata", "monotonic_reads")},
                                wrap=variants.rair_stale_reads, destructive=True),
    # The server takes one file more than the target (and its own spec) says.
    "rair one file too many accepted": Variant("rair", {("updateTokenMetadata", "limits_past_bound")},
                                               settings={"rair.max_files": 3}),
    "rair file limit one byte short": Variant("rair", {("updateTokenMetadata", "limits_at_bound")},
                                              settings={"rair.max_file_bytes": TEN_MIB - 1}, destructive=True),
    "rair credential taken from Authorization": Variant("rair", {("updateTokenMetadata", "credentials")},
                                                        wrap=variants.rair_credential_in_authorization),
    "rair read refused without credential": Variant("rair", {("getToken", "open_read")},
                                                    wrap=variants.rair_read_needs_credential),
    "rair files served as image/png": Variant("rair", {("updateTokenMetadata", "file_media_types")},
                                              wrap=variants.files_served_as_png, destructive=True),
    "rair errors as text": Variant("rair", {("updateTokenMetadata", "bodies")}, wrap=variants.rair_errors_as_text),
    "rair image naming no upload accepted": Variant("rair", {("updateTokenMetadata", "media_names")},
                                                    patch=_rair_any_media_name),
    # Tokenization rules of the behaviour checks added for issue 16.
    "tokenization unknown token answered 200": Variant("tokenization", {("updateToken", "unknown_resources")},
                                                       wrap=variants.tokenization_unknown_token_updated),
    "tokenization unknown token created": Variant("tokenization", {("updateToken", "unknown_resources")},
                                                  patch=_tokenization_creates_unknown),
    "tokenization update changes another token": Variant("tokenization", {("updateToken", "isolation")},
                                                         patch=_tokenization_updates_neighbour, destructive=True),
    "tokenization stale reads": Variant("tokenization", {("updateToken", "monotonic_reads")},
                                        wrap=variants.tokenization_stale_reads, destructive=True),
    "salable_percentage over 100 rounded": Variant("tokenization", {("updateToken", "limits_past_bound")},
                                                   wrap=variants.percentage_rounded),
    "tokenization file limit one byte short": Variant("tokenization", {("updateToken", "limits_at_bound")},
                                                      settings={"tokenization.max_file_bytes": TEN_MIB - 1},
                                                      destructive=True),
    "bearer scheme optional": Variant("tokenization", {("updateToken", "credentials")},
                                      wrap=variants.bearer_scheme_optional),
    "files served as octet-stream": Variant("tokenization", {("updateToken", "files")},
                                            wrap=variants.files_served_as_octet_stream, destructive=True),
    "valid removals ignored": Variant("tokenization", {("updateToken", "files")},
                                      patch=_tokenization_ignores_removals, destructive=True),
    "image removal drops a document": Variant("tokenization", {("updateToken", "files")},
                                              patch=_tokenization_image_removal_drops_a_document, destructive=True),
    "error status mismatch": Variant("tokenization", {("updateToken", "bodies")}, wrap=variants.error_status_mismatch),
    "empty 200 answered as JSON": Variant("tokenization", {("updateToken", "empty_success_body")},
                                          wrap=variants.empty_200_as_json, destructive=True),
    "updated_at frozen": Variant("tokenization", {("updateToken", "timestamps")}, wrap=variants.updated_at_frozen,
                                 destructive=True),
}


class TestBrokenVariants:
    """Each broken variant makes the checks about its breakage fail (and a run of it would exit 1)."""

    @pytest.mark.parametrize("name", sorted(VARIANTS))
    def test_variant_is_caught(self, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        variant = VARIANTS[name]
        app = mock_app(**variant.settings)
        if variant.patch is not None:
            variant.patch(app, monkeypatch)
        served = variant.wrap(app) if variant.wrap is not None else app
        with serve(served) as url:
            result = run_suite(url, variant.api, destructive=variant.destructive, examples=8, **variant.target)
        missing = variant.expected - failed_checks(result)
        assert not missing, f"not caught: {missing}; failed instead: {failed_checks(result)}"
        assert result.exit_code == 1

    def test_every_check_has_a_variant(self) -> None:
        # Behaviour checks are told apart by API: two APIs may each have an `isolation` check.
        covered = {(variant.api, check) for variant in VARIANTS.values() for _, check in variant.expected}
        schema = {check for _, check in covered} & set(SCHEMA_CHECKS)
        behaviour = {(check.api, check.name) for checks in BEHAVIOUR_CHECKS.values() for check in checks}
        assert set(SCHEMA_CHECKS) - schema == set()
        assert behaviour - covered == set()
