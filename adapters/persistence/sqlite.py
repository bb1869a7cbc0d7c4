"""SQLite, the embedded default: one file holds the events, snapshots and views.

Connections register `json_contains` (PostgreSQL's `@>` for metadata filters)
and zero deleted content (`secure_delete`); the application recorder stores
data keys and applies projections in the insert transaction, and empties the
WAL after an erasure. Reads of one statement (events, snapshots, history pages)
take a reader connection from a free list rather than the pool's checkout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ConnectionPoolClosedError, InterfaceError, StoredEvent
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
    SQLiteTransaction,
)
from eventsourcing.utils import Environment

from adapters.persistence.chain import Chaining, EventChain
from adapters.persistence.containment import sql_json_contains
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.key_recording import KeyRecording
from adapters.persistence.snapshot_reads import (
    snapshot_read_params,
    snapshot_read_sql,
    split_rows,
)
from adapters.persistence.sql_dialect import SQLITE


class ImmediateTransaction(SQLiteTransaction):
    """Writers take the write lock up front (`BEGIN IMMEDIATE`).

    A deferred transaction that reads first and writes later fails at once with
    "database is locked" when another process wrote in between; an immediate one
    waits for the lock (the busy timeout) instead.
    """

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        return cursor


class StatementTransaction(SQLiteTransaction):
    """A read of one statement in autocommit mode: no BEGIN, and so nothing to roll back;
    errors are translated as the library's transactions translate them."""

    def __enter__(self) -> SQLiteCursor:
        return self.connection.cursor()


class ChatledgerSQLiteConnection(SQLiteConnection):
    """The library's connection, with immediate write transactions."""

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with ImmediateTransaction(self, commit=commit) as cursor, cursor:
            yield cursor


CACHE_MIB = 64
"""Page cache per connection, MiB (SQLite's own default is 2)."""
MMAP_MIB = 1024
"""How much of the file is read through a memory map, MiB."""


class ChatledgerSQLitePool(SQLiteConnectionPool):
    """The library's pool, with our SQL functions and transactions on every connection."""

    LOCKED_RETRIES = 100
    STATEMENT_CACHE = 256
    """Compiled statements kept per connection. The library asks for `cached_statements=True`,
    which is one: an append's nine statements were each compiled anew."""

    def __init__(
        self, *args: Any, cache_mib: int = CACHE_MIB, mmap_mib: int = MMAP_MIB, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cache_mib = cache_mib
        self.mmap_mib = mmap_mib
        self._idle_readers: list[SQLiteConnection] = []
        self._readers: list[SQLiteConnection] = []
        self._readers_lock = threading.Lock()

    def reading(self) -> Reading:
        """`with pool.reading() as connection:` a connection for reads of one statement
        each, in autocommit mode.

        A single SELECT reads one consistent snapshot by itself and leaves no transaction
        open, so a file database's statement reads skip the pool's checkout (its
        semaphore, conditions and queue: 6–8 µs a call, a tenth of reading a 50-message
        page of history): they take an idle reader connection from a free list, or open
        one, and put it back. As many as the pool's size stay open (each with its page
        cache); more, opened by a burst of concurrent reads, are closed when put back.
        An in-memory database reads through the pool, which shares its connections.
        """
        return Reading(self)

    def take_reader(self) -> SQLiteConnection:
        """An idle reader connection, or a new one."""
        if self._closed:
            raise ConnectionPoolClosedError
        try:
            return self._idle_readers.pop()
        except IndexError:
            pass
        connection = self._create_connection()
        with self._readers_lock:
            if self._closed:
                connection.close()
                raise ConnectionPoolClosedError
            self._readers.append(connection)
        return connection

    def put_reader(self, connection: SQLiteConnection) -> None:
        """Keep `connection` for the next read, or close it when enough are idle."""
        if not self._closed and len(self._idle_readers) < self.pool_size:
            self._idle_readers.append(connection)
            return
        with self._readers_lock:
            if connection in self._readers:
                self._readers.remove(connection)
        connection.close()

    def close(self) -> None:
        with self._readers_lock:
            super().close()
            for connection in self._readers:
                connection.close()
            self._readers.clear()
            self._idle_readers.clear()

    def _create_connection(self) -> SQLiteConnection:
        raw = self._configured_connection()._sqlite_conn
        raw.create_function("json_contains", 2, sql_json_contains, deterministic=True)
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA secure_delete=ON")  # deleted content is zeroed, not left in pages
        # Reads: SQLite's 2 MiB page cache holds about 1,300 messages of history rows, so a
        # longer history was read again from the WAL file on every call.
        raw.execute(f"PRAGMA cache_size=-{self.cache_mib * 1024}")
        raw.execute(f"PRAGMA mmap_size={self.mmap_mib * 1024 * 1024}")
        return ChatledgerSQLiteConnection(sqlite_conn=raw, max_age=self.max_age)

    def _configured_connection(self) -> SQLiteConnection:
        """A connection as the library makes it (WAL, rows), with a statement cache;
        retried while another process holds the lock.

        Switching a new file to WAL needs the database to itself; processes opening a fresh
        file together (a server and its workers) would otherwise fail at once.
        """
        for attempt in range(self.LOCKED_RETRIES):
            try:
                return self._wal_connection()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == self.LOCKED_RETRIES - 1:
                    raise
                time.sleep(0.02 + 0.01 * (attempt % 5))
        raise AssertionError("unreachable")

    def _wal_connection(self) -> SQLiteConnection:
        try:
            raw = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # the library's own BEGIN and COMMIT
                cached_statements=self.STATEMENT_CACHE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            (mode,) = raw.execute("PRAGMA journal_mode").fetchone()
            if mode.lower() != "wal":
                raw.execute("PRAGMA journal_mode=WAL")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        raw.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=raw, max_age=self.max_age)


class Reading:
    """The context manager of `ChatledgerSQLitePool.reading()`: a class, as it is on the
    path of every statement read, where a generator-based one costs more."""

    __slots__ = ("connection", "pool")

    def __init__(self, pool: ChatledgerSQLitePool) -> None:
        self.pool = pool
        self.connection: SQLiteConnection | None = None

    def __enter__(self) -> SQLiteConnection:
        pool = self.pool
        if pool.is_sqlite_memory_mode:
            self.connection = pool.get_connection(is_writer=False)
        else:
            self.connection = pool.take_reader()
        return self.connection

    def __exit__(self, *exc_info: object) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        if self.pool.is_sqlite_memory_mode:
            self.pool.put_connection(connection)
        else:
            self.pool.put_reader(connection)


def statement_rows(datastore: Any, statement: str, params: Sequence[Any]) -> list[Any]:
    """The rows of one SELECT on a reader connection, in autocommit mode."""
    with (
        datastore.pool.reading() as connection,
        StatementTransaction(connection, commit=False) as cursor,
        cursor,
    ):
        cursor.execute(statement, params)
        return list(cursor.fetchall())


class StatementReads:
    """Mixin before the library's SQLite recorders: `select_events` as one statement in
    autocommit mode, without the BEGIN and ROLLBACK the library puts around it (a single
    SELECT reads one consistent snapshot on its own): the library's path reads a session's
    latest snapshot and then the events after it in two statements instead of six
    (`SQLiteSnapshotReads` makes it one)."""

    datastore: Any
    select_events_statement: str
    convert_originator_id: Callable[[str], UUID | str]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        statement = self.select_events_statement
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version DESC " if desc else "ORDER BY originator_version "
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        rows = statement_rows(self.datastore, statement, params)
        return [
            StoredEvent(
                originator_id=self.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in rows
        ]


class SQLiteSnapshotReads:
    """Mixin for the events recorder: a session's newest snapshot and the events after it
    in one statement read (`adapters.persistence.snapshot_reads`)."""

    datastore: Any
    events_table_name: str

    def select_from_snapshot(
        self, originator_id: UUID, snapshots: Any, *, lte: int | None
    ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        statement = _snapshot_read(
            snapshots.events_table_name, self.events_table_name, bounded=lte is not None
        )
        params = snapshot_read_params(originator_id.hex, lte)
        rows = statement_rows(self.datastore, statement, params)
        return split_rows(originator_id, rows)


@cache
def _snapshot_read(snapshots: str, events: str, *, bounded: bool) -> str:
    return snapshot_read_sql(snapshots, events, "?", bounded=bounded)


class ChatledgerSQLiteAggregateRecorder(StatementReads, SQLiteAggregateRecorder):
    """The snapshots' recorder: the library's, with `StatementReads`."""


class ChatledgerSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, with `ChatledgerSQLitePool` and statement reads of
    snapshots."""

    aggregate_recorder_class = ChatledgerSQLiteAggregateRecorder

    def __init__(self, env: Environment | dict[str, str] | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = ChatledgerSQLitePool(
            db_name=pool.db_name,
            lock_timeout=pool.lock_timeout,
            cache_mib=int(self.env.get("SQLITE_CACHE_MIB") or CACHE_MIB),
            mmap_mib=int(self.env.get("SQLITE_MMAP_MIB") or MMAP_MIB),
        )


class DirectInserting:
    """Mixin just before the library's recorder: its `insert_events`, without the three
    generator context managers the library wraps around the transaction.

    The same pool, the same `ImmediateTransaction` (so the same locking, commit, rollback
    and error translation), and the cursor closed before the commit, as there.
    """

    datastore: Any

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        pool = self.datastore.pool
        connection = pool.get_connection(is_writer=True)
        try:
            with ImmediateTransaction(connection, commit=True) as cursor:
                try:
                    return self._insert_events(cursor, stored_events, **kwargs)  # type: ignore[attr-defined]
                finally:
                    cursor.sqlite_cursor.close()
        finally:
            pool.put_connection(connection)


class ChatledgerSQLiteRecorder(
    Chaining,
    KeyRecording,
    InlineProjecting,
    DirectInserting,
    StatementReads,
    SQLiteSnapshotReads,
    SQLiteApplicationRecorder,
):
    """Records events with their chained hashes and, in the same transaction, their keys
    and inline projections."""

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        self.chain = EventChain(SQLITE, events_table_name)
        super().__init__(datastore, events_table_name)

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        self.chain.create_table(c)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self.record_keys(c, stored_events, kwargs)
        self.chain.record(c, stored_events, kwargs)
        self.project_inline(c, ids, kwargs)
        return ids

    def after_erasure(self) -> None:
        """Move the WAL into the file and empty it: erased bytes stay in neither."""
        with self.datastore.get_connection(commit=True) as connection:
            connection._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
