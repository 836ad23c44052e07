"""Tiny but real media files, built here rather than borrowed from the package under test."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 1, height: int = 1, *, colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A valid RGB PNG of the given size in one colour; different sizes or colours give different bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def gif() -> bytes:
    """A 1x1 transparent GIF89a."""
    return bytes.fromhex(
        "4749463839610100010080000000000000ffffff21f90401000000002c00000000010001000002024401003b"
    )


def pdf(text: str = "hello") -> bytes:
    """A one-page PDF whose bytes vary with `text`."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
        + f"% {text}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def mp3() -> bytes:
    """An ID3v2.3 header followed by one silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz)."""
    id3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return id3 + frame


def text(size: int = 32) -> bytes:
    """Plain text that no sniffer takes for media."""
    return (b"just some notes, nothing more.\n" * (size // 31 + 1))[:size]
