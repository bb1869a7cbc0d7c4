"""An append is one transaction: its event, hash, key and view rows commit together or not at all.

A history row planted behind the ledger's back (with the key the next message will take)
makes the last write of the append's transaction fail, after the event, its hash, its key
and the projections' positions were written in it.
"""

from __future__ import annotations

import pytest

from adapters.bootstrap import open_ledger
from adapters.settings import Settings, parse_database_url
from domain.context import CommandContext
from domain.errors import VersionConflictError
from domain.message import Message
from tests.support.tampering import Tamper

CTX = CommandContext(tenant_id="t1", actor="someone")


def _counts(tamper: Tamper, schema: str | None) -> list[int]:
    tables = ("event_hashes", "session_keys", "history_messages", "audit")
    names = [tamper.events, *(f'"{schema}"."{t}"' if schema else t for t in tables)]
    positions = f'"{schema}"."projection_positions"' if schema else "projection_positions"
    counts = [tamper.execute(f"SELECT COUNT(*) FROM {name}")[0][0] for name in names]
    return [*counts, tamper.execute(f"SELECT SUM(position) FROM {positions}")[0][0]]


def test_an_append_whose_view_write_fails_records_nothing(database_url: str) -> None:
    db = parse_database_url(database_url)
    schema = db.schema if db.backend == "postgres" else None
    history = f'"{schema}"."history_messages"' if schema else "history_messages"
    ledger = open_ledger(Settings(database_url=database_url))
    tamper = Tamper(database_url)
    try:
        session_id = str(ledger.create_session(CTX, title="atomic").id)
        ledger.append_messages(CTX, session_id, [Message.user("one")])
        tamper.execute(
            f"INSERT INTO {history} (session_id, version, seq, tenant_id, message_id, role,"
            " message, actor, created_at) VALUES (?, 3, 0, 't1', 'planted', 'user', '{}', 'x',"
            " '2026-01-01T00:00:00+00:00')",
            [session_id],
        )
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
