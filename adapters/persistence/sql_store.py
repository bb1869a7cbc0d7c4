"""The view store over the engine's own database: positions and transactions.

Views live beside the events (one SQLite file, or one PostgreSQL schema) and
share the event store's connection pool, so a projection can be applied in
the very transaction that records the events it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.persistence.sql_dialect import Dialect
from projections.base import Cursor, ViewStore

POSITIONS_TABLE = "projection_positions"


class Datastore(Protocol):
    """What the library's SQLite and PostgreSQL datastores both offer."""

    def transaction(self, *, commit: bool) -> Any: ...

    def get_connection(self, **kwargs: Any) -> Any: ...

    @property
    def pool(self) -> Any:
        """On SQLite, a `ChatledgerSQLitePool` (its `reading()` serves statement reads)."""
        ...


class SqlViewStore(ViewStore):
    """Positions in `projection_positions`, notifications in the events table."""

    def __init__(
        self,
        datastore: Datastore,
        dialect: Dialect,
        *,
        events_table: str,
        id_column: str,
        projection_names: Sequence[str],
    ) -> None:
        self.datastore = datastore
        self.d = dialect
        self.events = events_table
        self.id_column = id_column
        self.positions = dialect.table(POSITIONS_TABLE)
        self.projection_names = tuple(projection_names)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        # PostgreSQL read transactions commit rather than roll back: psycopg drops a
        # connection's prepared statements on rollback. SQLite writers lock at BEGIN,
        # so its reads must not ask for a writer's transaction.
        writes = commit or self.d.name == "postgres"
        with self.datastore.transaction(commit=writes) as cursor:
            yield cursor

    @contextmanager
    def statement(self) -> Iterator[Cursor]:
        """A cursor for reads that are one statement each, outside any transaction.

        A statement is a consistent snapshot on its own; without BEGIN and COMMIT around
        it, a read is one round trip on PostgreSQL (autocommit connections) and two
        statements fewer on SQLite (autocommit mode).
        """
        if self.d.name == "postgres":
            with self.datastore.get_connection() as connection, connection.cursor() as cursor:
                yield cursor
            return
        with self.datastore.pool.reading() as connection:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.sqlite_cursor.close()

    def create_tables(self, statements: Sequence[str]) -> None:
        """Create the positions table, the views' tables, and a zero position for each."""
        with self.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions}"
                " (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            for statement in statements:
                cursor.execute(statement)
            for name in self.projection_names:
                cursor.execute(
                    self.d.sql(
                        f"INSERT INTO {self.positions} (name, position) VALUES (?, 0)"
                        " ON CONFLICT (name) DO NOTHING"
                    ),
                    (name,),
                )

    def get_position(self, cursor: Cursor, name: str) -> int:
        cursor.execute(self.d.sql(f"SELECT position FROM {self.positions} WHERE name = ?"), (name,))
        row = cursor.fetchone()
        return 0 if row is None else int(row["position"])

    def move_position(self, cursor: Cursor, name: str, expected: int, new: int) -> bool:
        cursor.execute(
            self.d.sql(
                f"UPDATE {self.positions} SET position = ? WHERE name = ? AND position = ?"
                " RETURNING position"
            ),
            (new, name, expected),
        )
        return cursor.fetchone() is not None

    def advance_positions(
        self, cursor: Cursor, names: Sequence[str], first: int, last: int
    ) -> set[str]:
        if not names:
            return set()
        marks = ", ".join("?" * len(names))
        cursor.execute(
            self.d.sql(
                f"UPDATE {self.positions} SET position = ? WHERE name IN ({marks}) AND position = ("
                f"SELECT COALESCE(MAX({self.id_column}), 0) FROM {self.events}"
                f" WHERE {self.id_column} < ?) RETURNING name"
            ),
            (last, *names, first),
        )
        return {row["name"] for row in cursor.fetchall()}

    def max_notification_id(self, cursor: Cursor) -> int:
        cursor.execute(f"SELECT MAX({self.id_column}) AS m FROM {self.events}")
        row = cursor.fetchone()
        return int(row["m"] or 0)

    def select_notifications(
        self, cursor: Cursor, after: int, until: int, limit: int
    ) -> list[Notification]:
        cursor.execute(
            self.d.sql(
                f"SELECT {self.id_column} AS id, originator_id, originator_version, topic, state"
                f" FROM {self.events} WHERE {self.id_column} > ? AND {self.id_column} <= ?"
                f" ORDER BY {self.id_column} LIMIT ?"
            ),
            (after, until, limit),
        )
        return [
            Notification(
                id=int(row["id"]),
                originator_id=UUID(str(row["originator_id"])),
                originator_version=int(row["originator_version"]),
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cursor.fetchall()
        ]
