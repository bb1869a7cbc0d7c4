"""SQLite, the embedded default: one file holds the events, snapshots and views.

Connections register `json_contains` (PostgreSQL's `@>` for metadata filters)
and the application recorder applies projections in the insert transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
    SQLiteTransaction,
)
from eventsourcing.utils import Environment

from adapters.persistence.containment import sql_json_contains
from adapters.persistence.inline import InlineProjecting


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


class ChatledgerSQLiteConnection(SQLiteConnection):
    """The library's connection, with immediate write transactions."""

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with ImmediateTransaction(self, commit=commit) as cursor, cursor:
            yield cursor


class ChatledgerSQLitePool(SQLiteConnectionPool):
    """The library's pool, with our SQL functions and transactions on every connection."""

    def _create_connection(self) -> SQLiteConnection:
        raw = super()._create_connection()._sqlite_conn  # configured by the library (WAL, rows)
        raw.create_function("json_contains", 2, sql_json_contains, deterministic=True)
        raw.execute("PRAGMA synchronous=FULL")
        return ChatledgerSQLiteConnection(sqlite_conn=raw, max_age=self.max_age)


class ChatledgerSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, with `ChatledgerSQLitePool`."""

    def __init__(self, env: Environment | dict[str, str] | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = ChatledgerSQLitePool(
            db_name=pool.db_name, lock_timeout=pool.lock_timeout
        )


class ChatledgerSQLiteRecorder(InlineProjecting, SQLiteApplicationRecorder):
    """Records events and, in the same transaction, applies inline projections."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self.project_inline(c, ids, kwargs)
        return ids
