"""Sizes of JSON values as compact UTF-8 JSON, known from the request body's own bytes where that is safe.

An API may limit each element of a body's array to so many bytes of compact JSON (a metadata refresh does).
Re-encoding every element to measure it cost a quarter of a 250-item refresh's CPU, yet an element's compact
form is never longer than the text it was parsed from, but for one case: whitespace goes; an escape
(`\\u00e9`, `\\/`, `\\n`) re-encodes no longer than it was written (with ensure_ascii off only `"`, `\\` and
control characters are escaped again); a repeated key keeps one value; `-0` becomes `0`. The exception is a
number with a fraction or exponent: a float, whose `repr` can be longer (`1e5` is `100000.0`). So `loads`
parses a top-level object's arrays element by element with the standard library's own decoder and keeps each
element's source length in UTF-8 bytes as its bound, unless a float was parsed in it; `compact_sizes`
re-encodes only the elements whose bound could break a limit.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from json.scanner import make_scanner
from typing import Any

import msgspec

# Compact JSON as the size limits count it; one encoder for every item (json.dumps builds one per call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# JSON's whitespace, as the standard library's decoder skips it.
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What may follow an array's element: a comma or the closing bracket, with whitespace either side.
_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
_CONTAINERS = (dict, list)
# Characters of JSON whitespace, and "" (the end of the text), for a quick look at the character after a comma.
_WHITESPACE_CHARS = " \t\n\r"


class SizedList(list[Any]):
    """A JSON array parsed from text, with upper bounds of each element's compact UTF-8 size (None: unknown)
    and of how deep the array nests, and where its text lies (`[` to `]`, as slice bounds); the last two are
    None when the array was not parsed on its own."""

    def __init__(self, items: list[Any], bounds: list[int | None], *, span: tuple[int, int] | None,
                 depth_bound: int | None) -> None:
        super().__init__(items)
        self.size_bounds = bounds
        self.span = span
        self.depth_bound = depth_bound


def nesting_bound(text: str, value: Any) -> int:
    """An upper bound of how many levels of arrays and objects `value`, parsed from `text` by `loads`, nests.

    Nesting n levels takes n opening brackets, so each member of the top-level object nests no deeper than it
    has `[` and `{` in its text; an array of many shallow elements is bounded by its deepest element instead.
    Only the text outside those arrays is counted here: they counted their own elements while being parsed.
    """
    arrays = [member for member in value.values() if isinstance(member, SizedList)] if isinstance(value, dict) else []
    spans = [array.span for array in arrays if array.span is not None]
    depths = [array.depth_bound for array in arrays if array.depth_bound is not None]
    if not arrays or len(spans) < len(arrays) or len(depths) < len(arrays):
        return text.count("[") + text.count("{")
    # The brackets outside the arrays kept (in other members, or in a repeated key's dropped value) bound the rest.
    rest, at = 0, 0
    for start, end in sorted(spans):
        rest += text.count("[", at, start) + text.count("{", at, start)
        at = end
    rest += text.count("[", at) + text.count("{", at) - 1  # less the top-level object's own `{`
    return 1 + max(rest, *depths)


def compact_size(value: Any) -> int:
    """Bytes of the value as compact UTF-8 JSON."""
    text = _COMPACT.encode(value)
    return len(text) if text.isascii() else len(text.encode())


def compact_sizes(items: Sequence[Any], *, item_limit: int, list_limit: int) -> list[int]:
    """Each item's compact size, exact wherever a limit is at stake.

    For a `SizedList`, an item whose bound is within `item_limit` counts as its bound, unless the sizes so
    counted put the whole list (brackets and commas included) over `list_limit`; every other size is
    re-encoded. So a size above `item_limit`, and a list total above `list_limit`, is always the exact one.
    """
    bounds = items.size_bounds if isinstance(items, SizedList) else [None] * len(items)
    sizes = [bound if bound is not None and bound <= item_limit else compact_size(item)
             for item, bound in zip(items, bounds, strict=True)]
    if sum(sizes) + len(sizes) + 1 > list_limit and bounds.count(None) < len(bounds):
        return [compact_size(item) for item in items]  # over by the bounds: only the exact sizes can tell
    return sizes


class _ShortDecoders(threading.local):
    """This thread's decoders for short texts, one pair per pair of hooks, and the floats the last text held.

    `json.loads` with hooks builds a decoder and its scanner for every call: for a one-item refresh that was a
    third of the parsing. A decoder is reused only in its own thread, since its scanner is not thread-safe (and
    the float count is this thread's)."""

    def __init__(self) -> None:
        self.decoders: dict[tuple[Callable[[str], Any], Callable[[str], Any]],
                            tuple[msgspec.json.Decoder[Any], json.JSONDecoder]] = {}
        self.floats = 0

    def decoder(self, parse_constant: Callable[[str], Any],
                parse_float: Callable[[str], Any]) -> tuple[msgspec.json.Decoder[Any], json.JSONDecoder]:
        """msgspec's decoder, which parses what it takes as `json.loads` would; and the standard library's."""
        decoders = self.decoders.get((parse_constant, parse_float))
        if decoders is None:
            if len(self.decoders) >= _MAX_SHORT_DECODERS:  # a caller passing new hooks each time
                self.decoders.clear()
            def counting_float(number: str) -> Any:
                self.floats += 1
                return parse_float(number)

            # msgspec hands every number with a fraction or exponent to the hook, as the standard library does;
            # it has no constants (NaN, Infinity) to hand to `parse_constant`: they are errors to it.
            decoders = (msgspec.json.Decoder(float_hook=counting_float),
                        json.JSONDecoder(parse_constant=parse_constant, parse_float=counting_float))
            self.decoders[(parse_constant, parse_float)] = decoders
        return decoders


_short_decoders = _ShortDecoders()
_MAX_SHORT_DECODERS = 16  # the mock parses with one pair of hooks


def _short_loads(text: str, *, parse_constant: Callable[[str], Any], parse_float: Callable[[str], Any]) -> Any:
    """`json.loads(text, ...)`, each array of a top-level object a `SizedList` whose every element is bounded by
    the whole text's UTF-8 length (unless a float was parsed anywhere in it), and whose span is unknown.

    msgspec parses first, in about a third of the standard library decoder's time: where it succeeds its value is
    `json.loads`' own (integers of any size, floats through the same hook, the last of a repeated key in the first
    one's place). Whatever it refuses (a syntax error, NaN, a lone surrogate escape that `json.loads` takes, an
    exception from a hook) is parsed again by the standard library, which decides the value or the error; a hook
    may then see a number twice. Both parsers stop at the interpreter's recursion limit, msgspec with fewer Python
    frames under it: a text nested within a few levels of that limit can parse where `json.loads` would have
    raised RecursionError (`parse_json_body` refuses both as too deep, with the same answer)."""
    if text.startswith("\ufeff"):  # json.loads words a byte order mark its own way
        return json.loads(text, parse_constant=parse_constant, parse_float=parse_float)
    decoders = _short_decoders
    fast, decoder = decoders.decoder(parse_constant, parse_float)
    decoders.floats = 0
    try:
        value = fast.decode(text)
    except Exception:
        decoders.floats = 0
        value = decoder.decode(text)
    if isinstance(value, dict):
        bound = None if decoders.floats else len(text) if text.isascii() else len(text.encode())
        for key, member in value.items():
            if type(member) is list:
                value[key] = SizedList(member, [bound] * len(member), span=None, depth_bound=None)
    return value


def _skip(text: str, at: int) -> int:
    """The index of the first character from `at` on that is not JSON whitespace."""
    match = _WHITESPACE.match(text, at)
    return match.end() if match is not None else at


def loads(text: str, *, parse_constant: Callable[[str], Any], parse_float: Callable[[str], Any],
          min_length: int = 0) -> Any:
    """`json.loads(text, ...)` with the same hooks, the arrays of a top-level object as `SizedList`s.

    Anything but a well-formed top-level object (or any error at all) is parsed again by `json.loads` itself,
    so that the value or the error is exactly its. Text shorter than `min_length` is parsed by `json.loads` in
    one call, and each element bounded by the whole text: for a short text, that is bound enough.
    """
    if len(text) < min_length:
        return _short_loads(text, parse_constant=parse_constant, parse_float=parse_float)
    floats = 0

    def counting_float(number: str) -> Any:
        nonlocal floats
        floats += 1
        return parse_float(number)

    decoder = json.JSONDecoder(parse_constant=parse_constant, parse_float=counting_float)
    decode = decoder.raw_decode
    # The scanner itself (`json.scanner`'s one export), for the elements: `raw_decode` only wraps it in a Python
    # frame. Its StopIteration on bad text sends the whole text to `json.loads`, as any error here does.
    scan = make_scanner(decoder)  # type: ignore[arg-type]  # typeshed: the context is typed as the scanner
    ascii_only = text.isascii()

    def array(start: int) -> tuple[SizedList, int]:
        """The array whose `[` is at `start`, and the index after its `]` (and any whitespace after it)."""
        items: list[Any] = []
        bounds: list[int | None] = []
        deepest = 0  # the most `[` and `{` in one element's text: no element nests deeper
        at = _skip(text, start + 1)
        if text.startswith("]", at):
            end = at + 1
        else:
            add_item, add_bound, count = items.append, bounds.append, text.count
            while True:  # a 250-item refresh goes round this loop 250 times: no call it can do without
                floats_before = floats
                item, end = scan(text, at)
                add_item(item)
                add_bound((end - at if ascii_only else len(text[at:end].encode())) if floats == floats_before
                          else None)
                if isinstance(item, _CONTAINERS):
                    openers = count("[", at, end) + count("{", at, end)
                    if openers > deepest:
                        deepest = openers
                follows = text[end:end + 1]
                if follows == "," and text[end + 1:end + 2] not in _WHITESPACE_CHARS:  # compact JSON
                    at = end + 1
                    continue
                separator = _SEPARATOR.match(text, end)
                if separator is None:
                    raise ValueError("not an array")
                if separator[1] == "]":
                    end = separator.start(1) + 1
                    break
                at = separator.end()
        return SizedList(items, bounds, span=(start, end), depth_bound=1 + deepest), _skip(text, end)

    def top_object() -> dict[str, Any]:
        result: dict[str, Any] = {}
        at = _skip(text, 0)
        if not text.startswith("{", at):
            raise ValueError("not an object")
        at = _skip(text, at + 1)
        if not text.startswith("}", at):
            while True:
                if not text.startswith('"', at):
                    raise ValueError("not a key")
                key, at = decode(text, at)
                at = _skip(text, at)
                if not text.startswith(":", at):
                    raise ValueError("no colon")
                at = _skip(text, at + 1)
                value, at = array(at) if text.startswith("[", at) else decode(text, at)
                result[key] = value  # a repeated key: the last value in the first place, as json.loads does
                at = _skip(text, at)
                if text.startswith(",", at):
                    at = _skip(text, at + 1)
                elif text.startswith("}", at):
                    break
                else:
                    raise ValueError("not an object")
        if _skip(text, at + 1) != len(text):
            raise ValueError("extra data")
        return result

    try:
        return top_object()
    except Exception:  # json.loads decides what the text is, or words what is wrong with it
        return json.loads(text, parse_constant=parse_constant, parse_float=parse_float)
