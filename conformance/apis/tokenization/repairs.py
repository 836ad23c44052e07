"""Tokenization's case repairs: the target's token, real files, and no removal of ids the token may not own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from conformance import samples
from conformance.apis.base import AnyCase
from conformance.apis.tokenization.target import tokenization_of
from conformance.target_base import Target


def known_path(target: Target, generated: Mapping[str, Any], pick: int) -> dict[str, Any]:
    return {"token_id": tokenization_of(target).token_id}


def fix_update_body(case: AnyCase, target: Target) -> None:
    body = dict(cast(dict[str, Any], case.body))
    # Ids to remove must be the token's own; removing fixtures' files would also change what later checks
    # see.
    for field in ("remove_image_ids", "remove_document_ids"):
        if field in body:
            body[field] = ""
    content_types = dict(case.multipart_content_types or {})
    for field, make, media_type in (
        ("images", samples.png, "image/png"),
        ("documents", samples.pdf, "application/pdf"),
    ):
        files = body.get(field)
        if isinstance(files, list) and files:
            body[field] = [make(f"{case.id}-{index}") for index in range(len(files))]
            content_types[field] = media_type
    case.multipart_content_types = content_types or None
    case.body = body
