"""Compact JSON sizes: `loads` parses exactly as `json.loads`, and its size bounds are never below the truth."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import compactjson
from mockserver.compactjson import SizedList, compact_size, compact_sizes, loads, nesting_bound


def _reject(name: str) -> Any:
    raise ValueError(f"{name} refused")


HOOKS: dict[str, Any] = {"parse_constant": _reject, "parse_float": float}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=12)
objects = st.dictionaries(st.text(max_size=4), values, max_size=4)
# Each way a document's text can differ from its compact form: spacing, escapes of any character, both.
spellings = st.sampled_from([{}, {"indent": 2}, {"ensure_ascii": False}, {"separators": (",", ":")},
                             {"separators": (" ,  ", " : "), "ensure_ascii": False}])


@given(objects, spellings, st.sampled_from(["", " ", "\n\t\r "]))
def test_parses_as_json_loads_and_bounds_each_array_element(value: dict[str, Any], spelling: dict[str, Any],
                                                            space: str) -> None:
    text = space + json.dumps(value, **spelling) + space

    parsed = loads(text, **HOOKS)

    assert parsed == json.loads(text, **HOOKS)
    assert list(parsed) == list(json.loads(text, **HOOKS))
    for array in (member for member in parsed.values() if isinstance(member, list)):
        assert isinstance(array, SizedList)
        for element, bound in zip(array, array.size_bounds, strict=True):
            assert bound is None or compact_size(element) <= bound


def _depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max((_depth(child) for child in children), default=0)


@given(objects, spellings, st.integers(min_value=0, max_value=3))
def test_nesting_bound_is_never_below_the_depth(value: dict[str, Any], spelling: dict[str, Any],
                                                repeats: int) -> None:
    text = json.dumps(value, **spelling)
    # A repeated key whose dropped value is the deepest part of the text.
    text = text[:-1] + "".join(f'{", " if value or n else ""}"k": [[[{n}]]]' for n in range(repeats)) + text[-1:]

    parsed = loads(text, **HOOKS)

    assert nesting_bound(text, parsed) >= _depth(parsed)


def test_nesting_bound_of_many_shallow_elements_is_their_deepest() -> None:
    text = json.dumps({"a": [{"b": [{}]}] * 100, "c": [[1]], "d": {"e": 1}})

    assert nesting_bound(text, loads(text, **HOOKS)) == 1 + 1 + 3


def test_nesting_bound_counts_what_lies_outside_the_arrays() -> None:
    text = '{"a": [[[1]]], "b": {"c": {"d": {"e": {}}}}, "a": [3]}'  # the deepest member is no array

    assert nesting_bound(text, loads(text, **HOOKS)) >= 5


@pytest.mark.parametrize("text", [
    '{"a": [1,]}', '{"a": 1', '{"a": [1 2]}', '{"a": 1} x', '{"a" 1}', "{1: 2}", '{"a": NaN}', '{"a": [NaN]}',
    '{"a": [', "", "   ", "[1, 2]", '"text"', "null", '{"a": [1], "a": {"b": 2}}', '{"a": 1, "b": [], "a": [3]}',
    '\ufeff{"a": [1]}', '{"a": [1]}\ufeff', '{"a": [1.5, 1e999]}',
])
@pytest.mark.parametrize("min_length", [0, 10_000], ids=["element by element", "short text"])
def test_any_other_text_is_json_loads_own_value_or_error(text: str, min_length: int) -> None:
    def outcome(parse: Any) -> Any:
        try:
            return "value", parse(text, **HOOKS)
        except ValueError as error:
            return type(error), str(error)

    assert outcome(lambda text, **hooks: loads(text, **hooks, min_length=min_length)) == outcome(json.loads)


def test_a_float_leaves_its_element_without_a_bound() -> None:
    parsed = loads('{"a": [{"v": 1e5}, {"v": 1}, 2.5]}', **HOOKS)

    assert parsed["a"].size_bounds == [None, len('{"v": 1}'), None]


def test_a_non_ascii_element_is_bounded_by_its_utf8_bytes() -> None:
    parsed = loads('{"a": ["éé"]}', **HOOKS)

    assert parsed["a"].size_bounds == [6]


def test_sizes_are_exact_where_a_limit_could_be_broken() -> None:
    items = loads('{"a": [ "x" ,  "yyyy"  , {"k" :  "v"}, 1e1]}', **HOOKS)["a"]
    # Bounds 3, 6, 12 and none (a float); exact sizes 3, 6, 9 and 4 (`10.0`). The list: 5 bytes more.

    assert compact_sizes(items, item_limit=11, list_limit=100) == [3, 6, 9, 4]
    assert compact_sizes(items, item_limit=12, list_limit=30) == [3, 6, 12, 4]
    assert compact_sizes(items, item_limit=12, list_limit=29) == [3, 6, 9, 4]
    assert compact_sizes(list(items), item_limit=100, list_limit=100) == [3, 6, 9, 4]


def test_text_shorter_than_min_length_bounds_each_element_by_the_whole_text() -> None:
    text = '{"a": [1, "é"], "b": [{"c": [[]]}], "d": {}}'

    parsed = loads(text, **HOOKS, min_length=len(text) + 1)

    assert parsed == json.loads(text)
    assert parsed["a"].size_bounds == [len(text) + 1] * 2  # "é" is two bytes of UTF-8
    assert parsed["a"].span is None
    assert nesting_bound(text, parsed) == 7  # every bracket of the text counted
    assert loads(text, **HOOKS, min_length=len(text))["a"].span == (6, 14)


@given(objects, spellings)
def test_short_text_parses_as_json_loads_with_true_bounds(value: dict[str, Any], spelling: dict[str, Any]) -> None:
    text = json.dumps(value, **spelling)

    parsed = loads(text, **HOOKS, min_length=len(text) + 1)

    assert repr(parsed) == repr(json.loads(text, **HOOKS))  # repr: 1 and 1.0, 0.0 and -0.0 are equal values
    assert nesting_bound(text, parsed) >= _depth(parsed)
    for array in (member for member in parsed.values() if isinstance(member, list)):
        assert isinstance(array, SizedList)
        assert all(bound is None or compact_size(e) <= bound for e, bound in zip(array, array.size_bounds, strict=True))


def _outcome(parse: Any, text: str) -> tuple[Any, str]:
    """What parsing `text` gives, told apart by type: a value by its `repr`, an error by its type and message."""
    try:
        return "value", repr(parse(text, **HOOKS))
    except (ValueError, RecursionError) as error:
        return type(error), str(error)


def _short(text: str, **hooks: Any) -> Any:
    return loads(text, **hooks, min_length=len(text) + 1)


# Short texts are parsed by msgspec first: where it and the standard library part ways, the standard library's
# value or error is the one.
@pytest.mark.parametrize("text", [
    '{"a": ["\\ud800"]}', '{"a": ["\\udd1e\\ud834"], "b": "\\ud834\\udd1e"}',  # lone surrogates: json takes them
    '{"a": [123456789012345678901234567890, -9223372036854775809, 18446744073709551616]}',  # beyond 64 bits
    '{"a": [19872940085476834973, -19691226259208974771]}',  # msgspec before 0.19 wrapped these modulo 2**64
    '{"a": [' + "7" * 5000 + "]}",  # more digits than int() takes
    '{"a": [1e5, 1E+5, -0.0, -0, 0.1e-400, 2.2250738585072011e-308]}', '{"a": [1e999]}', '{"a": -1e400}',
    '{"a": [NaN]}', '{"a": Infinity}', '{"a": [-Infinity]}', '{"a": 1, "b": [2], "a": [3]}',
    '{"a": "\x7f\u0085\u2028"}', '{"a": "\x1f"}', '{"a": [1.]}', '{"a": [.1]}', '{"a": [01]}', '{"a": [tru]}',
    '{"a": [1]}\x0c', '\x0c{"a": [1]}', '{"a": [1]} \t\n\r', '{"a": "\\x"}', '{"a": "\\u00e9\\/"}', '{"a": 1',
    '{"a": ' + "[" * 1500 + "]" * 1500 + "}",  # deeper than either parser goes
    '{"a": ' + "[" * 600 + "]" * 600 + "}",  # as deep as both go: msgspec's limit is the interpreter's too
])
def test_short_text_is_json_loads_own_value_or_error_where_msgspec_differs(text: str) -> None:
    assert _outcome(_short, text) == _outcome(json.loads, text)


json_ish = st.text(st.sampled_from(list('{}[]":,. -+0123456789eEtrufalsnNIy\\\x00\x1f\x7fé\ud800')) | st.characters(),
                   max_size=40)


@given(json_ish | st.builds(lambda value, cut: json.dumps(value)[:cut], objects, st.integers(0, 60)))
def test_any_short_text_parses_as_json_loads(text: str) -> None:
    assert _outcome(_short, text) == _outcome(json.loads, text)


@given(st.lists(st.floats(allow_nan=False) | st.integers(-(2**70), 2**70) | st.from_regex(
    r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,3})?", fullmatch=True), max_size=5))
def test_numbers_parse_to_the_same_value_and_type(numbers: list[Any]) -> None:
    text = '{"a": [' + ", ".join(n if isinstance(n, str) else json.dumps(n) for n in numbers) + "]}"

    assert _outcome(_short, text) == _outcome(json.loads, text)


def test_a_hook_refusing_a_number_refuses_it_as_json_loads_does() -> None:
    def finite(text: str) -> float:
        if abs(float(text)) == float("inf"):
            raise ValueError(f"{text} is out of range")
        return float(text)

    hooks: dict[str, Any] = {"parse_constant": _reject, "parse_float": finite}
    with pytest.raises(ValueError, match=r"^1E400 is out of range$"):
        _short('{"a": [1.5, 1E400]}', **hooks)


def test_a_float_anywhere_in_short_text_leaves_every_element_unbounded() -> None:
    text = '{"a": [1, 2], "b": 0.5}'

    assert loads(text, **HOOKS, min_length=100)["a"].size_bounds == [None, None]


def test_short_texts_parse_alike_in_many_threads_at_once() -> None:
    texts = [json.dumps({"a": [{"n": n, "s": "x" * (n % 50)}] * (n % 7), "f": n / 3}) for n in range(2000)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        parsed = list(pool.map(lambda text: loads(text, **HOOKS, min_length=10_000), texts))

    assert parsed == [json.loads(text) for text in texts]
    assert all(value["a"].size_bounds == [None] * len(value["a"]) for value in parsed)  # each text holds a float


def test_a_caller_with_new_hooks_each_time_does_not_grow_the_decoders_without_bound() -> None:
    for _ in range(1000):
        loads('{"a": [1]}', parse_constant=lambda name: name, parse_float=lambda text: float(text), min_length=100)

    assert len(compactjson._short_decoders.decoders) <= 16
