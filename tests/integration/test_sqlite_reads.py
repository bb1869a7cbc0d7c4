"""SQLite reads: connections with a page cache and memory map sized by the settings, and
events, snapshots and view pages read with one statement each, outside any transaction, on
reader connections kept apart from the pool's checkout.

The statement reads must return exactly what the library's transactional reads return,
for every combination of bounds, order and limit, and translate driver errors as the
library does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import ExitStack
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
    session_id = _recorded_session(ledger, 250)  # a snapshot every 20 versions
    snapshots = ledger.engine.snapshots
    assert snapshots is not None
    recorder = snapshots.recorder
    assert isinstance(recorder, ChatledgerSQLiteAggregateRecorder)
    latest = recorder.select_events(session_id, desc=True, limit=1, lte=150)
    assert [s.originator_version for s in latest] == [140]
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
    pool = ledger.engine.recorder.datastore.pool
    ledger.engine.recorder.select_events(session_id)
    ledger.list_messages(CTX.tenant_id, session_id, limit=2)

    assert pool._idle_readers
    assert not any(reader._sqlite_conn.in_transaction for reader in pool._idle_readers)


def test_statement_reads_reuse_an_idle_reader_outside_the_pool(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    pool = ledger.engine.recorder.datastore.pool

    for _ in range(3):
        ledger.list_messages(CTX.tenant_id, session_id)
        ledger.get_state(CTX.tenant_id, session_id, version=2)

    assert len(pool._readers) == 1
    assert pool._idle_readers == pool._readers
    assert pool._readers[0] not in pool._pool


def test_readers_opened_by_a_burst_beyond_the_pool_size_are_closed_after_it(
    ledger: Ledger,
) -> None:
    pool = ledger.engine.recorder.datastore.pool
    burst = pool.pool_size + 2
    with ExitStack() as stack:
        held = [stack.enter_context(pool.reading()) for _ in range(burst)]
        assert len(set(map(id, held))) == burst

    assert len(pool._idle_readers) == len(pool._readers) == pool.pool_size
    closed = [c for c in held if c not in pool._readers]
    assert len(closed) == 2
    for connection in closed:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection._sqlite_conn.execute("SELECT 1")


def test_concurrent_reads_each_have_their_own_reader(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    pool = ledger.engine.recorder.datastore.pool
    barrier = threading.Barrier(3)
    held: list[int] = []
    counts: list[int] = []

    def read() -> None:
        with pool.reading() as connection:
            barrier.wait(timeout=10)  # all three hold a reader at once
            held.append(id(connection))
        counts.append(len(ledger.list_messages(CTX.tenant_id, session_id).data))

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(held)) == 3
    assert counts == [3, 3, 3]
    assert len(pool._readers) == 3


def test_a_reader_opened_before_a_write_sees_it(ledger: Ledger) -> None:
    session_id = _recorded_session(ledger, 3)
    assert len(ledger.list_messages(CTX.tenant_id, session_id).data) == 3

    ledger.append_messages(CTX, session_id, [Message.user("fourth")])

    texts = [e.message.text for e in ledger.list_messages(CTX.tenant_id, session_id).data]
    assert texts[-1] == "fourth"
    assert len(ledger.get_state(CTX.tenant_id, session_id).messages) == 4


def test_closing_the_ledger_closes_every_reader(sqlite_url: str) -> None:
    ledger = open_ledger(Settings(database_url=sqlite_url))
    session_id = _recorded_session(ledger, 2)
    pool = ledger.engine.recorder.datastore.pool
    with pool.reading(), pool.reading():
        ledger.list_messages(CTX.tenant_id, session_id)
    readers = list(pool._readers)
    assert len(readers) == 3

    ledger.close()

    for reader in readers:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            reader._sqlite_conn.execute("SELECT 1")
    with pytest.raises(ConnectionPoolClosedError):
        pool.reading().__enter__()


def test_an_in_memory_database_reads_through_the_pool() -> None:
    ledger = open_ledger(Settings(database_url="sqlite:///:memory:"))
    try:
        pool = ledger.engine.recorder.datastore.pool
        with pool.reading() as connection:
            assert id(connection) in pool._in_use
        assert pool._readers == []
        session_id = _recorded_session(ledger, 2)
        assert len(ledger.list_messages(CTX.tenant_id, session_id).data) == 2
        assert len(ledger.get_state(CTX.tenant_id, session_id, version=2).messages) == 1
        assert pool._readers == []
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
