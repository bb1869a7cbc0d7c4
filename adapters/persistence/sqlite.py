"""SQLite, the embedded default: one file holds the events, snapshots and views.

Connections register `json_contains` (PostgreSQL's `@>` for metadata filters)
and the application recorder applies projections in the insert transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)
from eventsourcing.utils import Environment

from adapters.persistence.containment import sql_json_contains
from adapters.persistence.inline import InlineProjecting


class ChatledgerSQLitePool(SQLiteConnectionPool):
    """The library's pool, with our SQL functions on every connection."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        raw = connection._sqlite_conn  # the wrapper keeps the sqlite3 connection
        raw.create_function("json_contains", 2, sql_json_contains, deterministic=True)
        raw.execute("PRAGMA synchronous=FULL")
        return connection


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
