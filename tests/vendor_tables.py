"""The fields of Tokenization's "Get Token Details" page, read from its copy in tests/data/vendor/ (see its README)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

TOKENIZATION_GET_TOKEN = Path(__file__).parent / "data" / "vendor" / "tokenization-get-token.md"
_CODE = re.compile(r"`([^`]+)`")
_OBJECT = re.compile(r"object `\{([^}]*)\}`")


@dataclasses.dataclass(frozen=True)
class VendorField:
    """One field of the page: its dotted path (`meta.images[]` for list items), its type and example as written."""

    path: str
    type: str
    example: str | None
    # The keys of an object field, as the page lists them (`{id, url, is_default (boolean), ...}`); () otherwise.
    keys: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The JSON type the page gives: string, integer, number, boolean or object."""
        return "object" if self.keys else self.type.split(",")[0].split(":")[0].split(" ")[0]

    @property
    def only_on_another_page(self) -> bool:
        """Shown on the "Get Token by ID" page, not on "Get Token Details" (the table says so)."""
        return "Get Token by ID" in self.type


def tokenization_get_token_fields() -> list[VendorField]:
    fields = []
    for line in TOKENIZATION_GET_TOKEN.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        names, examples = _CODE.findall(cells[0]), _CODE.findall(cells[2])
        # A row of several fields gives one example each, in order, or none.
        paired = examples if len(examples) == len(names) else [None] * len(names)
        shape = _OBJECT.search(cells[1])
        keys = tuple(key.strip() for key in re.sub(r"\([^)]*\)", "", shape.group(1)).split(",")) if shape else ()
        if "the same object shape as" in cells[1]:
            keys = next(field.keys for field in fields if field.path.endswith("." + _CODE.findall(cells[1])[0]))
        fields += [VendorField(name, cells[1], example, keys) for name, example in zip(names, paired, strict=True)]
    return fields
