"""RAIR's case repairs: generated requests pointed at the target's tokens, positive bodies made really valid."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from typing import Any, cast

from conformance import samples
from conformance.apis.base import AnyCase
from conformance.apis.rair.target import rair_of
from conformance.target_base import Target

_ABSOLUTE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_TEXT_FIELDS = ("name", "description", "artist", "external_url", "image", "animation_url", "attributes")


def known_path(target: Target, generated: Mapping[str, Any], pick: int) -> dict[str, Any]:
    tokens = rair_of(target).tokens
    return tokens[pick % len(tokens)].path_parameters()


def fix_update_body(case: AnyCase, target: Target) -> None:
    body = dict(cast(dict[str, Any], case.body))
    files = body.get("files")
    names: list[str] = []
    if isinstance(files, list) and files:
        # Random bytes are not media; real PNGs get the upload through (a non-media file is a 415, also
        # fine).
        body["files"] = [samples.png(f"{case.id}-{index}") for index in range(len(files))]
        case.multipart_content_types = {**(case.multipart_content_types or {}), "files": "image/png"}
        # Schemathesis names a PNG part `files.png`; the server knows each upload by that name.
        names = ["files.png"]
    for field in ("image", "animation_url"):
        value = body.get(field)
        if isinstance(value, str) and not _ABSOLUTE_URL.match(value) and value not in names:
            body[field] = (
                names[0] if names else f"https://example.com/media/{zlib.crc32(value.encode()):08x}"
            )
    if isinstance(body.get("attributes"), list):
        # RAIR reads `attributes` as one part holding a JSON array; Schemathesis would send one part per
        # item.
        body["attributes"] = json.dumps(body["attributes"])
    if not any(field in body for field in _TEXT_FIELDS):
        # Files alone update nothing, which RAIR answers with 400 "Nothing to update.".
        body["name"] = "conformance"
    case.body = body


def generate_at_most_max_files(spec: dict[str, Any], target: Target) -> None:
    # The file count limit is server configuration; generate no more files than this server takes.
    files = spec["components"]["schemas"]["TokenMetadataUpdate"]["properties"]["files"]
    files["maxItems"] = rair_of(target).max_files
