"""The raw-driver floor: what one durable INSERT costs with nothing of chatledger on top.

A table `messages (session_id, seq, role, content)` with primary key (session_id, seq),
written through sqlite3 (WAL, synchronous=FULL, as chatledger configures SQLite) or
psycopg (autocommit: each statement its own transaction). As for chatledger, one
session per length N is built first (multi-row transactions of `plan.batch` rows);
`bench.appends` then times single-row transactions, interleaved with chatledger's
appends. Same ShareGPT texts, same order.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from bench import sharegpt
from bench.databases import Target
from bench.plan import Plan
from bench.storage import Payload

Row = tuple[str, int, str, str]


class SQLiteWriter:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE messages (session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
            " role TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (session_id, seq))"
        )
        self.sql = "INSERT INTO messages (session_id, seq, role, content) VALUES (?, ?, ?, ?)"

    def insert(self, row: Row) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute(self.sql, row)
        self.conn.execute("COMMIT")

    def insert_many(self, rows: Sequence[Row]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany(self.sql, rows)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class PostgresWriter:
    def __init__(self, dsn: str, schema: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(
            f'CREATE TABLE "{schema}".messages (session_id TEXT NOT NULL, seq INTEGER NOT NULL,'
            " role TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (session_id, seq))"
        )
        self.sql = (
            f'INSERT INTO "{schema}".messages (session_id, seq, role, content)'
            " VALUES (%s, %s, %s, %s)"
        )
        self.copy_sql = f'COPY "{schema}".messages (session_id, seq, role, content) FROM STDIN'

    def insert(self, row: Row) -> None:
        self.conn.execute(self.sql, row, prepare=True)

    def insert_many(self, rows: Sequence[Row]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(self.sql, rows)

    def copy_many(self, rows: Sequence[Row]) -> None:
        """All `rows` in one `COPY` (its own transaction: the connection is in autocommit)."""
        with self.conn.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        self.conn.close()


def open_writer(target: Target) -> SQLiteWriter | PostgresWriter:
    if target.sqlite_path is not None:
        return SQLiteWriter(str(target.sqlite_path))
    assert target.postgres_dsn is not None
    return PostgresWriter(target.postgres_dsn, target.schema)


class FloorSubject:
    """A raw driver on a fresh database, with one session per length of the plan."""

    name = "floor"

    def __init__(self, target: Target, plan: Plan) -> None:
        self.plan = plan
        self.writer: SQLiteWriter | PostgresWriter = open_writer(target)
        self.source: Iterator[sharegpt.Turn] = sharegpt.turns()
        self.payload = Payload()
        self.next_seq: dict[str, int] = {}
        self.sessions: dict[int, Any] = {}

    def prepare(self) -> None:
        """Warm up, then build the sessions with multi-row transactions."""
        scratch = uuid.uuid4().hex
        for _ in range(self.plan.warmup):
            self.writer.insert(self.take(scratch, 1)[0])
        for n in self.plan.sizes:
            self.sessions[n] = session = str(uuid.uuid4())
            for start in range(0, n, self.plan.batch):
                self.writer.insert_many(self.take(session, min(self.plan.batch, n - start)))

    def take(self, session: str, count: int) -> list[Row]:
        """The next ShareGPT turns as rows of `session`, numbered from 1."""
        rows: list[Row] = []
        for turn in itertools.islice(self.source, count):
            seq = self.next_seq.get(session, 0) + 1
            self.next_seq[session] = seq
            self.payload.add(turn.text, 0)
            rows.append((session, seq, turn.role, turn.text))
        return rows

    def next_message(self, session: Any) -> Row:
        return self.take(session, 1)[0]

    def append(self, session: Any, message: Row) -> None:
        self.writer.insert(message)

    def close(self) -> None:
        self.writer.close()
