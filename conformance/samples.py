"""Small, real files for uploads: servers judge a file by its bytes, so a PNG has to be a PNG.

Each sample carries a tag in its content, so two uploads with different tags are different files (servers may
store files by content hash).
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(tag: str = "") -> bytes:
    """A 1x1 PNG whose `tEXt` chunk holds `tag`."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    text = _chunk(b"tEXt", b"Comment\x00" + tag.encode()) if tag else b""
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + text + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def pdf(tag: str = "") -> bytes:
    """A one-page PDF with `tag` in a comment."""
    return (
        b"%PDF-1.4\n% " + tag.encode() + b"\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def text(tag: str = "") -> bytes:
    """Plain text: a file no media upload accepts."""
    return f"conformance suite: this is not an image ({tag})\n".encode()
