"""The audit view in SQL (`audit`), for SQLite and PostgreSQL alike.

Rows are small: the position is the key (SQLite's rowid), the stream id is
stored only when it is not the session's own id, and the stream's kind is the
first part of the type. Two indexes serve the queries: a tenant's entries by
position, and a session's. Other filters (actor, type, time) narrow those scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction, execute_rows
from projections.audit import AuditEntry, AuditQuery, AuditView
from projections.base import Cursor
from projections.paging import Page, check_page_size, decode_cursor, encode_cursor

_COLUMNS = (
    "position, tenant_id, session_id, stream_id, version, type, actor, recorded_at,"
    " correlation_id, causation_id, trace_id"
)


class SqlAuditView(AuditView):
    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("audit")
        self._insert = dialect.sql(
            f"INSERT INTO {self.t} ({_COLUMNS}) VALUES ({', '.join('?' * 11)})"
        )

    def create_statements(self) -> list[str]:
        d = self.d
        key = "INTEGER PRIMARY KEY" if d.name == "sqlite" else "BIGINT PRIMARY KEY"
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            f" position {key}, tenant_id TEXT NOT NULL, session_id TEXT, stream_id TEXT,"
            " version INTEGER NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL,"
            f" recorded_at {d.time_type} NOT NULL, correlation_id TEXT, causation_id TEXT,"
            " trace_id TEXT)",
            f"CREATE INDEX IF NOT EXISTS audit_by_tenant ON {self.t} (tenant_id, position)",
            f"CREATE INDEX IF NOT EXISTS audit_by_session ON {self.t} (session_id, position)"
            " WHERE session_id IS NOT NULL",
        ]

    def add_entries(self, cursor: Cursor, entries: Sequence[AuditEntry]) -> None:
        time_in = self.d.time_in
        rows = [
            (
                entry.position,
                entry.tenant_id,
                entry.session_id,
                None if entry.stream_id == entry.session_id else entry.stream_id,
                entry.version,
                entry.type,
                entry.actor,
                time_in(entry.recorded_at),
                entry.correlation_id,
                entry.causation_id,
                entry.trace_id,
            )
            for entry in entries
        ]
        execute_rows(cursor, self._insert, rows)

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def list_entries(self, query: AuditQuery) -> Page[AuditEntry]:
        limit = check_page_size(query.limit)
        where, params = self._conditions(query)
        sql = (
            f"SELECT {_COLUMNS} FROM {self.t} WHERE {' AND '.join(where)} ORDER BY position LIMIT ?"
        )
        with self.read() as db:
            db.execute(self.d.sql(sql), [*params, limit + 1])
            rows = list(db.fetchall())
        entries = [self._entry(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(entries, encode_cursor({"position": entries[-1].position}) if more else None)

    def _conditions(self, query: AuditQuery) -> tuple[list[str], list[Any]]:
        where, params = ["tenant_id = ?"], [query.tenant_id]
        if query.cursor is not None:
            where.append("position > ?")
            params.append(decode_cursor(query.cursor, position=int)["position"])
        if query.session_id is not None:
            where.append("session_id = ?")
            params.append(query.session_id)
        if query.actor is not None:
            where.append("actor = ?")
            params.append(query.actor)
        prefix = query.type_prefix
        if prefix is not None:
            where.append("substr(type, 1, ?) = ?")
            params += [len(prefix), prefix]
        elif query.type is not None:
            where.append("type = ?")
            params.append(query.type)
        if query.since is not None:
            where.append("recorded_at >= ?")
            params.append(self.d.time_in(query.since))
        if query.until is not None:
            where.append("recorded_at < ?")
            params.append(self.d.time_in(query.until))
        return where, params

    def _entry(self, row: Any) -> AuditEntry:
        return AuditEntry(
            position=int(row["position"]),
            tenant_id=row["tenant_id"],
            stream_id=row["stream_id"] or row["session_id"],
            version=row["version"],
            type=row["type"],
            actor=row["actor"],
            recorded_at=self.d.time_out(row["recorded_at"]),
            session_id=row["session_id"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            trace_id=row["trace_id"],
        )
