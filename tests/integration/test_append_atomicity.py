"""An append is one transaction: its event, hash, key and view rows commit together or not at all;
so is a session created with its first messages.

A history row planted behind the ledger's back (with the key the next message will take)
makes the last write of the append's transaction fail, after the event, its hash, its key
and the projections' positions were written in it.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.bootstrap import open_ledger
from adapters.settings import Settings, parse_database_url
from domain.context import CommandContext
from domain.errors import (
    InvalidTextError,
    LimitExceededError,
    SessionNotFoundError,
    VersionConflictError,
)
from domain.message import Message
from projections.session_list import SessionQuery
from tests.support.tampering import Tamper

CTX = CommandContext(tenant_id="t1", actor="someone")


def _counts(tamper: Tamper, schema: str | None) -> list[int]:
    tables = ("event_hashes", "session_keys", "history_messages", "audit")
    names = [tamper.events, *(f'"{schema}"."{t}"' if schema else t for t in tables)]
    positions = f'"{schema}"."projection_positions"' if schema else "projection_positions"
    counts = [tamper.execute(f"SELECT COUNT(*) FROM {name}")[0][0] for name in names]
    return [*counts, tamper.execute(f"SELECT SUM(position) FROM {positions}")[0][0]]


def _schema_and_history(database_url: str) -> tuple[str | None, str]:
    db = parse_database_url(database_url)
    schema = db.schema if db.backend == "postgres" else None
    return schema, f'"{schema}"."history_messages"' if schema else "history_messages"


def _plant_history_row(tamper: Tamper, history: str, session_id: str) -> None:
    """A row under the key the session's version 3 will take, so writing it fails."""
    tamper.execute(
        f"INSERT INTO {history} (session_id, version, seq, tenant_id, message_id, role,"
        " message, actor, created_at) VALUES (?, 3, 0, 't1', 'planted', 'user', '{}', 'x',"
        " '2026-01-01T00:00:00+00:00')",
        [session_id],
    )


def test_an_append_whose_view_write_fails_records_nothing(database_url: str) -> None:
    schema, history = _schema_and_history(database_url)
    ledger = open_ledger(Settings(database_url=database_url))
    tamper = Tamper(database_url)
    try:
        session_id = str(ledger.create_session(CTX, title="atomic").id)
        ledger.append_messages(CTX, session_id, [Message.user("one")])
        _plant_history_row(tamper, history, session_id)
        before = _counts(tamper, schema)

        with pytest.raises(VersionConflictError):
            ledger.append_messages(CTX, session_id, [Message.user("two")])

        assert _counts(tamper, schema) == before
        assert ledger.get_session("t1", session_id).version == 2
        tamper.execute(f"DELETE FROM {history} WHERE message_id = 'planted'")
        result = ledger.append_messages(CTX, session_id, [Message.user("two")])
        assert result.session.version == 3
        texts = [e.message.text for e in ledger.list_messages("t1", session_id).data]
        assert texts == ["one", "two"]
        assert [s.lag for s in ledger.projection_status()] == [0] * len(ledger.projection_status())
    finally:
        tamper.close()
        ledger.close()


def test_a_session_created_with_messages_records_them_with_it(database_url: str) -> None:
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        state = ledger.create_session(
            CTX, title="imported", messages=[Message.user("one"), Message.assistant("two")]
        )

        assert (state.version, state.message_count) == (3, 2)
        entries = ledger.list_messages("t1", state.id).data
        assert [(e.message.role, e.message.text, e.version) for e in entries] == [
            ("user", "one", 2),
            ("assistant", "two", 3),
        ]
        assert all(e.message.id for e in entries)
        assert len({e.message.id for e in entries}) == 2
        listed = ledger.list_sessions(SessionQuery(tenant_id="t1")).data
        assert [(s.id, s.message_count) for s in listed] == [(str(state.id), 2)]
        assert [s.lag for s in ledger.projection_status()] == [0] * len(ledger.projection_status())
    finally:
        ledger.close()


def test_a_session_whose_first_messages_fail_to_record_is_not_created(database_url: str) -> None:
    schema, history = _schema_and_history(database_url)
    ledger = open_ledger(Settings(database_url=database_url))
    tamper = Tamper(database_url)
    try:
        session_id = uuid4()
        _plant_history_row(tamper, history, str(session_id))
        before = _counts(tamper, schema)

        with pytest.raises(VersionConflictError, match="expected version 0"):
            ledger.create_session(
                CTX, session_id=session_id, messages=[Message.user("a"), Message.user("b")]
            )

        assert _counts(tamper, schema) == before
        with pytest.raises(SessionNotFoundError):
            ledger.get_session("t1", session_id)
        assert ledger.list_sessions(SessionQuery(tenant_id="t1")).data == []
    finally:
        tamper.close()
        ledger.close()


def test_a_session_with_an_invalid_first_message_is_refused_before_anything_is_written(
    database_url: str,
) -> None:
    ledger = open_ledger(Settings(database_url=database_url, max_batch_messages=2))
    try:
        with pytest.raises(InvalidTextError, match=r"messages\[1\]"):
            ledger.create_session(CTX, messages=[Message.user("fine"), Message.user("a\x00b")])
        with pytest.raises(LimitExceededError, match="3 messages"):
            ledger.create_session(CTX, messages=[Message.user(t) for t in "abc"])

        assert ledger.list_sessions(SessionQuery(tenant_id="t1")).data == []
        assert ledger.engine.recorder.max_notification_id() in (None, 0)
    finally:
        ledger.close()


def test_a_session_id_already_taken_is_a_version_conflict(database_url: str) -> None:
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        taken = ledger.create_session(CTX, title="first", messages=[Message.user("kept")])

        with pytest.raises(VersionConflictError, match="expected version 0"):
            ledger.create_session(
                CTX, session_id=taken.id, title="second", messages=[Message.user("lost")]
            )

        state = ledger.get_state("t1", taken.id)
        assert (state.session.title, state.session.version) == ("first", 2)
        assert [e.message.text for e in state.messages] == ["kept"]
    finally:
        ledger.close()
