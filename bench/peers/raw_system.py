"""The raw driver: the floor under every other system.

The table of `bench.floor` (`messages (session_id, seq, role, content)`, primary key
`(session_id, seq)`) through sqlite3 (WAL, synchronous=FULL) or psycopg (autocommit). One
message is one `INSERT` in its own transaction; a whole conversation is one transaction
of `INSERT`s on SQLite and one `COPY` on PostgreSQL. Reads are indexed `SELECT`s.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from bench.databases import Target
from bench.floor import PostgresWriter, Row, SQLiteWriter, open_writer
from bench.sharegpt import Turn
from bench.storage import Storage, measure

HISTORY = "SELECT role, content FROM {t} WHERE session_id = {p} ORDER BY seq"
PAGE = "SELECT role, content FROM {t} WHERE session_id = {p} ORDER BY seq DESC LIMIT {p}"
STATE_AT = "SELECT role, content FROM {t} WHERE session_id = {p} AND seq <= {p} ORDER BY seq"


class RawSystem:
    name = "raw"

    def __init__(self, target: Target) -> None:
        self.target = target
        self.writer: SQLiteWriter | PostgresWriter = open_writer(target)
        if target.backend == "sqlite":
            self.label = "sqlite3, WAL, synchronous=FULL"
            table, p = "messages", "?"
        else:
            self.label = "psycopg 3, autocommit; COPY for a conversation"
            table, p = f'"{target.schema}".messages', "%s"
        self.sql = {name: q.format(t=table, p=p) for name, q in _QUERIES.items()}
        self.seq: dict[str, int] = {}

    def create_session(self) -> str:
        session = str(uuid.uuid4())
        self.seq[session] = 0
        return session

    def prepare(self, turns: Sequence[Turn]) -> list[tuple[str, str]]:
        return [(t.role, t.text) for t in turns]

    def append(self, session: str, prepared: list[tuple[str, str]]) -> None:
        first = self.seq[session] + 1
        self.seq[session] += len(prepared)
        rows: list[Row] = [(session, first + i, r, t) for i, (r, t) in enumerate(prepared)]
        if len(rows) == 1:
            self.writer.insert(rows[0])
        elif isinstance(self.writer, PostgresWriter):
            self.writer.copy_many(rows)
        else:
            self.writer.insert_many(rows)

    def end_session(self, session: Any) -> None:
        pass

    def caught_up(self) -> None:
        pass

    def history(self, session: str) -> int:
        return len(self._rows("history", (session,)))

    def page(self, session: str, limit: int) -> int:
        return len(self._rows("page", (session, limit)))

    def state_at(self, session: str, messages: int) -> int:
        return len(self._rows("state_at", (session, messages)))

    def _rows(self, query: str, params: tuple[Any, ...]) -> list[Any]:
        conn: Any = self.writer.conn
        if isinstance(self.writer, PostgresWriter):
            return list(conn.execute(self.sql[query], params, prepare=True).fetchall())
        return list(conn.execute(self.sql[query], params).fetchall())

    def close(self) -> None:
        self.writer.close()

    def storage(self) -> Storage:
        return measure(self.target)


_QUERIES = {"history": HISTORY, "page": PAGE, "state_at": STATE_AT}
