"""History entries over view rows: fields read lazily, messages parsed once per text."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.message import Message
from projections.history import PARSED_MAX_LENGTH, HistoryEntry, parse_message


def _row(raw: str, version: int = 2) -> tuple[object, ...]:
    return (version, 0, raw, "alice", "2026-11-22T06:00:00.000001+00:00", None, None)


def test_an_entry_over_a_row_reads_its_fields_on_first_use() -> None:
    raw = Message.user("hello").model_dump_json(exclude_none=True)
    entry = HistoryEntry.from_row("s1", _row(raw, version=7))

    assert (entry.version, entry.seq, entry.actor) == (7, 0, "alice")
    assert entry.message == Message.user("hello")
    assert entry.created_at == datetime(2026, 11, 22, 6, 0, 0, 1, tzinfo=UTC)
    assert entry.origin_session_id is None


def test_the_same_text_is_parsed_once_and_other_text_is_parsed_again() -> None:
    raw = Message.user("recalled every turn").model_dump_json(exclude_none=True)
    first = HistoryEntry.from_row("s1", _row(raw)).message
    # A new row, as the next turn reads it: an equal string, not the same object.
    again = HistoryEntry.from_row("s1", _row("".join(list(raw)))).message

    assert again is first
    redacted = Message.user("[redacted]").model_dump_json(exclude_none=True)
    assert HistoryEntry.from_row("s1", _row(redacted)).message.text == "[redacted]"


def test_a_long_message_is_parsed_every_time() -> None:
    raw = Message.user("x" * PARSED_MAX_LENGTH).model_dump_json(exclude_none=True)

    first, again = parse_message(raw), parse_message(raw)

    assert first == again
    assert first is not again
