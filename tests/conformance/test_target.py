"""Target files: the defaults match the mock, the example parses, and mistakes are named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.curl import curl_command
from conformance.errors import TargetError
from conformance.exchange import FilePart, RequestSpec, SizedStream
from conformance.target import default_target_text, load_target

EXAMPLE = Path(__file__).resolve().parents[2] / "conformance" / "example_target.yaml"


class TestTarget:
    """Loading and validating target files."""

    def test_defaults_are_the_mock_fixtures(self) -> None:
        target = load_target()
        assert target.rair.owner_token == "rair-owner-token"
        assert target.immutable.collection.address == "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
        assert target.tokenization.token_id == "67d8774e903bfcbe7eb5d93e"
        assert "owner_token" not in repr(target)  # credentials stay out of reprs
        # The mock's second token: what the isolation check watches while the first is updated.
        assert target.tokenization.other_token_ids == ("67d8774e903bfcbe7eb5d950",)
        # The mock's stacked metadata, carried by NFTs 4 and 5.
        assert target.immutable.metadata_ids == ("4e28df8d-f65c-4c11-ba04-6a9dd47b179b",)

    def test_example_file_parses(self) -> None:
        assert load_target(EXAMPLE).rair.non_owner_token == "rair-collector-token"

    @pytest.mark.parametrize(("text", "message"), [
        ("rair: {}", "rair.tokens is missing"),
        ("[1, 2]", "the top level must be a mapping"),
        ("rair: {tokens: [{network: '0x89', contract: '0x1', product: 0, token: 1}]}", "rair.tokens[0].contract"),
        (default_target_text() + "\nsurprise: 1\n", "unknown key surprise"),
        ("rair: [", "not valid YAML"),
        (default_target_text().replace("other_token_ids: [67d8774e903bfcbe7eb5d950]", "other_token_ids: [x1]"),
         "tokenization.other_token_ids holds ids that are not 24 hex digits: x1"),
        (default_target_text().replace("metadata_ids: [4e28df8d-f65c-4c11-ba04-6a9dd47b179b]", "metadata_ids: [m1]"),
         "immutable.metadata_ids holds ids that are not UUIDs: m1"),
    ])
    def test_mistakes_are_named(self, tmp_path: Path, text: str, message: str) -> None:
        path = tmp_path / "target.yaml"
        path.write_text(text)
        with pytest.raises(TargetError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_target(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(TargetError, match="cannot read target file"):
            load_target(tmp_path / "absent.yaml")


class TestCurl:
    """Failures come with curl commands that resend the same request, files included."""

    def test_multipart_with_files(self) -> None:
        spec = RequestSpec(method="PUT", path="/v2/admin/token/x", headers={"Authorization": "Bearer t"},
                           form={"name": "a b;type=x"},
                           files=(FilePart(field="images", filename="a.png", content_type="image/png",
                                           content=b"\x89P"),
                                  FilePart(field="images", filename="big.png", content_type="image/png",
                                           content=SizedStream(b"\x89P", 10))))
        command = curl_command(spec, "http://h:1")
        assert "printf '\\211\\120' > a.png" in command
        assert "head -c 8 /dev/zero; } > big.png" in command
        assert "--form-string 'name=a b;type=x'" in command
        assert "-F 'images=@a.png;type=image/png'" in command
        assert "-X PUT http://h:1/v2/admin/token/x" in command

    def test_sized_stream_reads_exactly(self) -> None:
        stream = SizedStream(b"abc", 10)
        assert stream.read() == b"abc" + bytes(7)
        assert stream.read() == b""
