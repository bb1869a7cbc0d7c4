"""The session list view in SQL (`session_list`), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from adapters.persistence.sql_paging import list_by_update
from domain.session import Session
from projections.base import Cursor
from projections.paging import Page
from projections.session_list import SessionListView, SessionQuery, SessionSummary


class SqlSessionListView(SessionListView):
    """The session list as one table, `session_list`."""

    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("session_list")
        self._touches: dict[tuple[str, ...], str] = {}
        """`touch`'s UPDATE for each set of columns it changes, made once."""

    def create_statements(self) -> list[str]:
        d = self.d
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " session_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, title TEXT NOT NULL,"
            f" user_id TEXT, agent_id TEXT, metadata {d.json_type} NOT NULL,"
            " status TEXT NOT NULL, message_count INTEGER NOT NULL, version INTEGER NOT NULL,"
            f" created_at {d.time_type} NOT NULL, updated_at {d.time_type} NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS session_list_by_update ON {self.t}"
            " (tenant_id, updated_at, session_id)",
        ]

    def add_session(self, cursor: Cursor, event: Session.Created) -> None:
        d = self.d
        cursor.execute(
            d.sql(
                f"INSERT INTO {self.t} (session_id, tenant_id, title, user_id, agent_id,"
                " metadata, status, message_count, version, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?j, 'active', ?, ?, ?, ?)"
            ),
            (
                str(event.originator_id),
                event.tenant_id,
                event.title,
                event.user_id,
                event.agent_id,
                d.json_in(event.metadata),
                getattr(event, "inherited_messages", 0),
                event.originator_version,
                d.time_in(event.timestamp),
                d.time_in(event.timestamp),
            ),
        )

    def touch(
        self,
        cursor: Cursor,
        event: Session.Event,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_delta: int = 0,
        reset_messages: bool = False,
        status: str | None = None,
    ) -> None:
        d = self.d
        sets = ["version = ?", "updated_at = ?"]
        params: list[Any] = [event.originator_version, d.time_in(event.timestamp)]
        if title is not None:
            sets.append("title = ?")
            params.append(title)
        if metadata is not None:
            sets.append("metadata = ?j")
            params.append(d.json_in(metadata))
        if reset_messages:
            sets.append("message_count = 0")
        elif message_delta:
            sets.append("message_count = message_count + ?")
            params.append(message_delta)
        if status is not None:
            sets.append("status = ?")
            params.append(status)
        params.append(str(event.originator_id))
        shape = tuple(sets)
        sql = self._touches.get(shape)
        if sql is None:
            sql = self._touches[shape] = d.sql(
                f"UPDATE {self.t} SET {', '.join(sets)} WHERE session_id = ?"
            )
        cursor.execute(sql, params)

    def get_metadata(self, cursor: Cursor, session_id: str) -> dict[str, Any]:
        cursor.execute(
            self.d.sql(f"SELECT metadata FROM {self.t} WHERE session_id = ?"), (session_id,)
        )
        row = cursor.fetchone()
        return {} if row is None else dict(self.d.json_out(row["metadata"]))

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        d = self.d
        where = ["tenant_id = ?"]
        params: list[Any] = [query.tenant_id]
        if not query.include_deleted:
            where.append("status = 'active'")
        if query.user_id is not None:
            where.append("user_id = ?")
            params.append(query.user_id)
        if query.agent_id is not None:
            where.append("agent_id = ?")
            params.append(query.agent_id)
        if query.metadata_filter:
            where.append(d.contains_sql)
            params.append(d.json_in(query.metadata_filter))
        rows, next_cursor = list_by_update(
            d,
            self.read,
            table=self.t,
            id_column="session_id",
            where=where,
            params=params,
            order=query.order,
            cursor=query.cursor,
            offset=query.offset,
            limit=query.limit,
        )
        return Page([self._summary(row) for row in rows], next_cursor)

    def _summary(self, row: Any) -> SessionSummary:
        d = self.d
        return SessionSummary(
            id=row["session_id"],
            tenant_id=row["tenant_id"],
            title=row["title"],
            user_id=row["user_id"],
            agent_id=row["agent_id"],
            metadata=d.json_out(row["metadata"]),
            status=row["status"],
            message_count=row["message_count"],
            version=row["version"],
            created_at=d.time_out(row["created_at"]),
            updated_at=d.time_out(row["updated_at"]),
        )
