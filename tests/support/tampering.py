"""Direct SQL on a chatledger database, as someone with write access to it would tamper.

`Tamper` opens its own connection (sqlite3 on the file, psycopg on the schema),
outside the ledger, commits every change at once, and returns with each change a
callable that undoes it, so one log can take many edits in turn. Rows are keyed
by (stream id as canonical text, version); SQL is written with `?` placeholders.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg

from adapters.persistence.chain import GENESIS, event_hash
from adapters.settings import parse_database_url

Undo = Callable[[], None]
EVENT_COLUMNS = ("originator_id", "originator_version", "topic", "state")
HASH_COLUMNS = ("originator_id", "originator_version", "tenant_id", "hash")


def undo_all(*undos: Undo) -> Undo:
    """One undo for several changes (undone last first)."""

    def undo() -> None:
        for one in reversed(undos):
            one()

    return undo


class Tamper:
    """Edits events and hash rows behind the ledger's back."""

    def __init__(self, database_url: str) -> None:
        db = parse_database_url(database_url)
        self.backend = db.backend
        if db.backend == "sqlite":
            self.conn: Any = sqlite3.connect(db.sqlite_path, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=OFF")  # an attacker needs no durability
            self.events, self.hashes, self.position = "stored_events", "event_hashes", "rowid"
        else:
            self.conn = psycopg.connect(
                host=db.host, port=db.port, dbname=db.name, user=db.user, autocommit=True
            )
            self.events = f'"{db.schema}"."chatledger_events"'
            self.hashes = f'"{db.schema}"."event_hashes"'
            self.position = "notification_id"

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ plumbing

    def sid(self, stream_id: str) -> Any:
        """A stream id as the database stores it."""
        return UUID(stream_id).hex if self.backend == "sqlite" else UUID(stream_id)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.backend == "postgres":
            sql = sql.replace("?", "%s")
        cursor = self.conn.execute(sql, tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    def _key(self, stream_id: str, version: int) -> tuple[str, list[Any]]:
        return "originator_id = ? AND originator_version = ?", [self.sid(stream_id), version]

    def value(self, table: str, column: str, stream_id: str, version: int) -> Any:
        where, params = self._key(stream_id, version)
        rows = self.execute(f"SELECT {column} FROM {table} WHERE {where}", params)
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ edits

    def set_value(self, table: str, column: str, stream_id: str, version: int, new: Any) -> Undo:
        """Set one column of one row; the undo finds the row under its new key."""
        old = self.value(table, column, stream_id, version)
        where, params = self._key(stream_id, version)
        self.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", [new, *params])
        key = {"originator_id": self.sid(stream_id), "originator_version": version, column: new}
        back = "originator_id = ? AND originator_version = ?"

        def undo() -> None:
            self.execute(
                f"UPDATE {table} SET {column} = ? WHERE {back}",
                [old, key["originator_id"], key["originator_version"]],
            )

        return undo

    def swap_states(self, stream_id: str, first: int, second: int) -> Undo:
        a = self.value(self.events, "state", stream_id, first)
        b = self.value(self.events, "state", stream_id, second)
        return undo_all(
            self.set_value(self.events, "state", stream_id, first, b),
            self.set_value(self.events, "state", stream_id, second, a),
        )

    def delete(self, table: str, stream_id: str, versions: Sequence[int]) -> Undo:
        """Delete rows (all columns, their log position too, are put back by the undo)."""
        columns = EVENT_COLUMNS if table == self.events else HASH_COLUMNS
        if table == self.events:
            columns = (*columns, self.position)
        rows = []
        for version in versions:
            where, params = self._key(stream_id, version)
            rows += self.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)
            self.execute(f"DELETE FROM {table} WHERE {where}", params)

        def undo() -> None:
            marks = ", ".join("?" * len(columns))
            for row in rows:
                self.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", row)

        return undo

    def insert_event(
        self,
        stream_id: str,
        version: int,
        topic: str,
        state: bytes,
        *,
        tenant: str | None = None,
        forged: bytes | None = None,
    ) -> Undo:
        """Insert an event; given `tenant`, with a hash row chained on the one before (or
        holding the `forged` bytes)."""
        sid = self.sid(stream_id)
        where, params = self._key(stream_id, version)
        self.execute(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)",
            [sid, version, topic, state],
        )
        if tenant is not None:
            prev = bytes(self.value(self.hashes, "hash", stream_id, version - 1) or GENESIS)
            digest = forged or event_hash(prev, tenant, stream_id, version, topic.encode(), state)
            self.execute(
                f"INSERT INTO {self.hashes} ({', '.join(HASH_COLUMNS)}) VALUES (?, ?, ?, ?)",
                [sid, version, tenant, digest],
            )

        def undo() -> None:
            self.execute(f"DELETE FROM {self.events} WHERE {where}", params)
            if tenant is not None:
                self.execute(f"DELETE FROM {self.hashes} WHERE {where}", params)

        return undo

    def rehash(self, stream_id: str, tenant: str, from_version: int) -> Undo:
        """Recompute the stream's hashes from `from_version` on, as one who knows how."""
        where = "originator_id = ? AND originator_version >= ?"
        params = [self.sid(stream_id), from_version]
        before = self.execute(
            f"SELECT originator_version, hash FROM {self.hashes} WHERE {where}"
            " ORDER BY originator_version",
            params,
        )
        events = self.execute(
            f"SELECT originator_version, topic, state FROM {self.events} WHERE {where}"
            " ORDER BY originator_version",
            params,
        )
        prev = bytes(self.value(self.hashes, "hash", stream_id, from_version - 1) or GENESIS)
        for version, topic, state in events:
            prev = event_hash(prev, tenant, stream_id, version, topic.encode(), bytes(state))
            where_one, key = self._key(stream_id, version)
            self.execute(f"UPDATE {self.hashes} SET hash = ? WHERE {where_one}", [prev, *key])

        def undo() -> None:
            for version, digest in before:
                where_one, key = self._key(stream_id, version)
                self.execute(f"UPDATE {self.hashes} SET hash = ? WHERE {where_one}", [digest, *key])

        return undo

    def streams(self) -> dict[str, tuple[str, int]]:
        """Every stream's tenant and length, from the hash rows."""
        rows = self.execute(
            f"SELECT originator_id, MAX(tenant_id), MAX(originator_version) FROM {self.hashes}"
            " GROUP BY originator_id"
        )
        return {str(UUID(str(stream))): (tenant, count) for stream, tenant, count in rows}
