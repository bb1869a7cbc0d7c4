"""SQLite reads: connections with a page cache and memory map sized by the settings, and
events, snapshots and view pages read with one statement each, outside any transaction, on
the thread's own connection.

The statement reads must return exactly what the library's transactional reads return,
for every combination of bounds, order and limit, and translate driver errors as the
library does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import ConnectionPoolClosedError, OperationalError
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.persistence.sqlite import ChatledgerSQLiteAggregateRecorder, StatementReads
from adapters.settings import Settings
from domain.context import CommandContext
from domain.message import Message

CTX = CommandContext(tenant_id="t1", actor="someone")


def _pragma(ledger: Ledger, name: str) -> Any:
    with ledger.engine.recorder.datastore.get_connection(commit=False) as connection:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@pytest.fixture
def ledger(sqlite_url: str) -> Iterator[Ledger]:
    ledger = open_ledger(Settings(database_url=sqlite_url))
    try:
        yield ledger
    finally:
        ledger.close()


def test_connections_have_the_default_page_cache_and_memory_map(ledger: Ledger) -> None:
    assert _pragma(ledger, "cache_size") == -64 * 1024  # KiB, as a negative number
    assert _pragma(ledger, "mmap_size") == 1024 * 1024 * 1024


def test_the_page_cache_and_memory_map_follow_the_settings(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATLEDGER_SQLITE_CACHE_MIB", "8")
    monkeypatch.setenv("CHATLEDGER_SQLITE_MMAP_MIB", "0")
    ledger = open_ledger(Settings(database_url=sqlite_url))
    try:
        assert _pragma(ledger, "cache_size") == -8 * 1024
        assert _pragma(ledger, "mmap_size") == 0
    finally:
        ledger.close()


def _recorded_session(ledger: Ledger, messages: int) -> UUID:
    session_id = ledger.create_session(CTX, title="reads").id
    for number in range(messages):
        ledger.append_messages(CTX, session_id, [Message.user(f"message {number}")])
    return session_id


BOUNDS: list[tuple[dict[str, Any], list[int]]] = [
    ({}, list(range(1, 132))),
    ({"gt": 3}, list(range(4, 132))),
    ({"lte": 7}, list(range(1, 8))),
    ({"gt": 2, "lte": 9}, list(range(3, 10))),
    ({"desc": True}, list(range(131, 0, -1))),
    ({"desc": True, "limit": 1}, [131]),
    ({"limit": 4}, [1, 2, 3, 4]),
    ({"gt": 100, "lte": 120, "desc": True, "limit": 3}, [120, 119, 118]),
    ({"gt": 1_000}, []),
]


@pytest.mark.parametrize(("bounds", "versions"), BOUNDS, ids=[str(b) for b, _ in BOUNDS])
def test_events_read_in_one_statement_are_the_librarys_events(
    ledger: Ledger, bounds: dict[str, Any], versions: list[int]
) -> None:
    session_id = _recorded_session(ledger, 130)  # Created, then 130 messages
    recorder = ledger.engine.recorder
    assert isinstance(recorder, StatementReads)
    for originator_id in (session_id, session_id.hex):
        ours = recorder.select_events(originator_id, **bounds)
        assert [e.originator_version for e in ours] == versions
        assert ours == SQLiteAggregateRecorder.select_events(recorder, originator_id, **bounds)


def test_snapshots_are_read_in_one_statement_too(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 250)  # snapshots at versions 100 and 200
    snapshots = ledger.engine.snapshots
    assert snapshots is not None
    recorder = snapshots.recorder
    assert isinstance(recorder, ChatledgerSQLiteAggregateRecorder)
    latest = recorder.select_events(session_id, desc=True, limit=1, lte=150)
    assert [s.originator_version for s in latest] == [100]
    assert latest == SQLiteAggregateRecorder.select_events(
        recorder, session_id, desc=True, limit=1, lte=150
    )


def test_the_state_at_a_version_is_unchanged(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 150)
    state = ledger.get_state(CTX.tenant_id, session_id, version=121)
    assert [e.message.text for e in state.messages][-2:] == ["message 118", "message 119"]
    assert state.session.version == 121
    assert len(state.messages) == 120


def test_a_statement_read_leaves_no_transaction_open(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    reader = ledger.engine.recorder.datastore.pool.reader()
    ledger.engine.recorder.select_events(session_id)
    assert not reader._sqlite_conn.in_transaction
    ledger.list_messages(CTX.tenant_id, session_id, limit=2)
    assert not reader._sqlite_conn.in_transaction


def _reader_in_a_thread(ledger: Ledger, session_id: UUID) -> tuple[Any, int]:
    """The reader of a new thread, and how many messages that thread read first."""
    found: list[Any] = []

    def read() -> None:
        count = len(ledger.list_messages(CTX.tenant_id, session_id).data)
        found.extend([ledger.engine.recorder.datastore.pool.reader(), count])

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return found[0], found[1]


def test_statement_reads_use_one_connection_per_thread_outside_the_pool(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    pool = ledger.engine.recorder.datastore.pool
    mine = pool.reader()

    other, count = _reader_in_a_thread(ledger, session_id)

    assert count == 3
    assert pool.reader() is mine
    assert other is not mine
    assert mine not in pool._pool and other not in pool._pool


def test_a_reader_opened_before_a_write_sees_it(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    assert len(ledger.list_messages(CTX.tenant_id, session_id).data) == 3

    ledger.append_messages(CTX, session_id, [Message.user("fourth")])

    texts = [e.message.text for e in ledger.list_messages(CTX.tenant_id, session_id).data]
    assert texts[-1] == "fourth"
    assert len(ledger.get_state(CTX.tenant_id, session_id).messages) == 4


def test_closing_the_ledger_closes_every_thread_s_reader(sqlite_url: str) -> None:
    ledger = open_ledger(Settings(database_url=sqlite_url))
    session_id = _recorded_session(ledger, 2)
    pool = ledger.engine.recorder.datastore.pool
    mine = pool.reader()
    other, _ = _reader_in_a_thread(ledger, session_id)

    ledger.close()

    for reader in (mine, other):
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            reader._sqlite_conn.execute("SELECT 1")
    with pytest.raises(ConnectionPoolClosedError):
        pool.reader()


def test_an_in_memory_database_reads_through_the_pool() -> None:
    ledger = open_ledger(Settings(database_url="sqlite:///:memory:"))
    try:
        assert ledger.engine.recorder.datastore.pool.reader() is None
        session_id = _recorded_session(ledger, 2)
        assert len(ledger.list_messages(CTX.tenant_id, session_id).data) == 2
        assert len(ledger.get_state(CTX.tenant_id, session_id, version=2).messages) == 1
    finally:
        ledger.close()


def test_driver_errors_are_translated_as_the_librarys_reads_translate_them(
    ledger: Ledger,
) -> None:
    recorder = ChatledgerSQLiteAggregateRecorder(
        ledger.engine.recorder.datastore, events_table_name="no_such_table"
    )
    with pytest.raises(OperationalError, match="no such table"):
        recorder.select_events("anything")
