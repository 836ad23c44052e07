"""Hypothesis strategies for values every server must accept and store as sent."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Letters, digits, punctuation, symbols and plain spaces: no control characters or lone surrogates, which
# multipart bodies and JSON cannot all carry faithfully, and no leading or trailing space, which servers may
# trim.
_CHARACTERS = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))


def texts(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(_CHARACTERS, min_size=1, max_size=max_size).filter(lambda s: s == s.strip() and s != "")


def slugs() -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12)


def hex_ids() -> st.SearchStrategy[str]:
    return st.text("0123456789abcdef", min_size=24, max_size=24)


def attributes() -> st.SearchStrategy[list[dict[str, Any]]]:
    item = st.fixed_dictionaries({"trait_type": texts(20), "value": texts(20)})
    return st.lists(item, max_size=3)
