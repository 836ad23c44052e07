"""Uploaded files: typed by their bytes, stored once per content, served back unchanged."""

from __future__ import annotations

import hashlib

import pytest

from mockserver.files import SAMPLES, BlobStore, Upload, sniff
from tests.mockserver import media


class TestSniff:
    """Media types come from magic bytes, whatever name or type a client claims."""

    @pytest.mark.parametrize(
        ("data", "expected"),
        [(media.png(), "image/png"), (media.gif(), "image/gif"), (media.pdf(), "application/pdf"),
         (media.mp3(), "audio/mpeg"), (media.text(), None), (b"", None)],
    )
    def test_sniff(self, data: bytes, expected: str | None) -> None:
        assert sniff(data) == expected

    def test_upload_reports_sniffed_type_not_declared_one(self) -> None:
        upload = Upload(field="images", filename="notes.txt", declared_type="text/plain", data=media.png())

        assert upload.sniffed_type == "image/png"
        assert "size=" in repr(upload)
        assert media.png() not in repr(upload).encode()

    @pytest.mark.parametrize("name", sorted(SAMPLES))
    def test_packaged_samples_are_what_they_claim(self, name: str) -> None:
        content_type, data = SAMPLES[name]

        assert sniff(data) == content_type


class TestBlobStore:
    """Blobs are keyed by SHA-256 of their content."""

    def test_put_get(self) -> None:
        store = BlobStore()
        key = store.put(media.png(), "image/png")

        blob = store.get(key)

        assert key == hashlib.sha256(media.png()).hexdigest()
        assert blob is not None
        assert (blob.content_type, blob.data) == ("image/png", media.png())

    def test_same_bytes_are_stored_once(self) -> None:
        store = BlobStore()

        first = store.put(media.png(), "image/png")
        second = store.put(media.png(), "image/png")
        other = store.put(media.png(2, 2), "image/png")

        assert first == second != other
        assert len(store) == 2

    def test_unknown_key_and_clear(self) -> None:
        store = BlobStore()
        key = store.put(media.pdf(), "application/pdf")

        store.clear()

        assert store.get(key) is None
        assert len(store) == 0
