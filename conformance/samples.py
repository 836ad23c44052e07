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


def png_of_size(size: int) -> bytes | None:
    """A valid 1x1 PNG of exactly `size` bytes, padded in a `tEXt` chunk; None below the smallest such PNG.

    Size limits are probed at their exact bound, so the file has to be a real image of a chosen length.
    """
    bare = png()
    padding = size - len(bare) - 12 - len(b"Comment\x00")
    if padding < 0:
        return None
    text = _chunk(b"tEXt", b"Comment\x00" + b" " * padding)
    signature_and_header = len(PNG_SIGNATURE) + 12 + 13
    return bare[:signature_and_header] + text + bare[signature_and_header:]


def gif(tag: str = "") -> bytes:
    """A 1x1 GIF with `tag` in a comment extension."""
    comment = tag.encode()[:255]
    extension = b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00" if comment else b""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        + extension
        + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b"
    )


def mp4(tag: str = "") -> bytes:
    """An MP4 `ftyp` box followed by a `free` box holding `tag`: enough to be recognised as video/mp4."""
    ftyp = b"ftypisom\x00\x00\x02\x00isomiso2"
    free = b"free" + tag.encode()
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(free) + 4) + free
