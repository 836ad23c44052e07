"""The journal's ring buffer: numbering, order, what it keeps and how entries read."""

from __future__ import annotations

import json

import pytest

from mockserver.journal import Fields, Journal, JournalEntry


def fields(n: int, *, body: bytes = b"", status: int = 200) -> Fields:
    """A recorded exchange `n`: `JournalEntry`'s fields in order, `id` left out."""
    headers = [(b"content-type", b"application/json")] if body else []
    return (float(n), "rair", "getToken", "GET", f"/{n}", "", headers, body, status, [], b"", 1.0, None)


def entry(n: int) -> JournalEntry:
    return JournalEntry(*fields(n))


@pytest.mark.parametrize("keep", ["add", "record"])
def test_ring_buffer_keeps_the_newest(keep: str) -> None:
    journal = Journal(capacity=3)
    for n in range(5):
        if keep == "add":
            journal.add(entry(n))
        else:
            journal.record(fields(n))
    assert [e.path for e in journal.query()] == ["/2", "/3", "/4"]
    assert [e.id for e in journal.query()] == [3, 4, 5]
    assert [e.path for e in journal.query(limit=1)] == ["/4"]


def test_added_and_recorded_exchanges_are_numbered_in_the_order_kept() -> None:
    journal = Journal()
    journal.record(fields(0))
    added = journal.add(entry(1))
    journal.record(fields(2, status=404))
    assert added.id == 2
    assert [(e.path, e.id) for e in journal.query()] == [("/0", 1), ("/1", 2), ("/2", 3)]
    assert [e.id for e in journal.query(status=404)] == [3]
    assert len(journal) == 3


def test_a_recorded_exchange_reads_as_the_entry_of_its_fields() -> None:
    journal = Journal()
    journal.record(fields(7, body=json.dumps({"a": [1]}).encode()))
    [read] = journal.query()
    assert read == JournalEntry(*fields(7, body=b'{"a": [1]}'), id=1)
    assert read.as_dict()["request_body"] == {"a": [1]}
    assert read.as_dict()["request_headers"] == {"content-type": "application/json"}


def test_an_entry_is_built_once_so_its_body_is_decoded_once() -> None:
    journal = Journal()
    journal.record(fields(1, body=b'{"a": 1}'))
    first = journal.query()[0]
    assert first.request_body == {"a": 1}
    assert journal.query()[0] is first  # not built (and decoded) again on every read of the journal


def test_durations_are_shown_to_the_microsecond() -> None:
    read = JournalEntry(time=0, api="rair", operation=None, method="GET", path="/", query="",
                        raw_request_headers=[], raw_request_body=b"", status=200, raw_response_headers=[],
                        raw_response_body=b"", duration_ms=1.23456789)
    assert read.as_dict()["duration_ms"] == 1.235
