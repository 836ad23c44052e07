"""Uploaded files: kept in memory by content hash, typed by their bytes, served back at a URL."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading

import filetype

OCTET_STREAM = "application/octet-stream"
# Where the server serves stored files, by key.
FILES_PREFIX = "/files/"
# A stored file never changes under its key (its content's hash): caches may keep it a year without asking again
# (RFC 8246's `immutable` directive).
CACHE_FOREVER = "public, max-age=31536000, immutable"

# Small but real files, so fixture attachments render in a browser and sniff as what they claim to be.
_PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
_PDF_MINIMAL = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SAMPLES: dict[str, tuple[str, bytes]] = {"png": ("image/png", _PNG_1X1), "pdf": ("application/pdf", _PDF_MINIMAL)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Upload:
    """A file as the client sent it: its original name, declared media type and bytes."""

    field: str
    filename: str
    declared_type: str | None
    data: bytes

    @property
    def sniffed_type(self) -> str | None:
        """The media type the bytes themselves show, if they show one."""
        return sniff(self.data)

    def __repr__(self) -> str:
        return (f"Upload(field={self.field!r}, filename={self.filename!r}, "
                f"declared_type={self.declared_type!r}, size={len(self.data)})")


@dataclasses.dataclass(frozen=True)
class Blob:
    """Stored file content with the media type it is served with."""

    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The media type recognised from magic bytes, or None."""
    kind = filetype.guess(data[:8192])
    return kind.mime if kind is not None else None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files by SHA-256 of their content; storing the same bytes twice keeps one copy."""

    def __init__(self) -> None:
        self._blobs: dict[str, Blob] = {}
        self._lock = threading.Lock()

    def put(self, data: bytes, content_type: str) -> str:
        key = digest(data)
        with self._lock:
            self._blobs.setdefault(key, Blob(content_type, data))
        return key

    def get(self, key: str) -> Blob | None:
        return self._blobs.get(key)

    def clear(self) -> None:
        with self._lock:
            self._blobs.clear()

    def __len__(self) -> int:
        return len(self._blobs)
