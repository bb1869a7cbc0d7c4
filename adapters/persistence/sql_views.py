"""The session list and history views in SQL, shared by SQLite and PostgreSQL.

A `Dialect` says how the two differ (placeholders, JSON and time columns,
containment, schema-qualified names); everything else is one SQL text. Writes
use the cursor of the caller's transaction; reads open their own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.errors import InvalidInputError
from domain.message import Message
from domain.session import Session
from projections.base import Cursor
from projections.history import HistoryEntry, HistoryQuery, HistoryView
from projections.paging import Page, check_page_size, decode_cursor, encode_cursor
from projections.session_list import SessionListView, SessionQuery, SessionSummary


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL for the views."""

    name: str
    param: str
    json_param: str
    json_type: str
    time_type: str
    contains_sql: str
    schema: str | None = None

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.schema else name

    def sql(self, text: str) -> str:
        """Translate `?j` (a JSON parameter) and `?` (any other) to this dialect."""
        return text.replace("?j", self.json_param).replace("?", self.param)

    def json_in(self, value: Any) -> str:
        return orjson.dumps(value).decode()

    def json_out(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def time_in(self, value: datetime) -> Any:
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if self.name == "sqlite" else value

    def time_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(value) if isinstance(value, str) else value


SQLITE = Dialect(
    name="sqlite",
    param="?",
    json_param="?",
    json_type="TEXT",
    time_type="TEXT",
    contains_sql="json_contains(metadata, ?)",
)


def postgres_dialect(schema: str) -> Dialect:
    return Dialect(
        name="postgres",
        param="%s",
        json_param="%s::jsonb",
        json_type="JSONB",
        time_type="TIMESTAMPTZ",
        contains_sql="metadata @> %s::jsonb",
        schema=schema,
    )


ReadTransaction = Callable[[], AbstractContextManager[Cursor]]


class SqlSessionListView(SessionListView):
    """The session list as one table, `session_list`."""

    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("session_list")

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
                " VALUES (?, ?, ?, ?, ?, ?j, 'active', 0, ?, ?, ?)"
            ),
            (
                str(event.originator_id),
                event.tenant_id,
                event.title,
                event.user_id,
                event.agent_id,
                d.json_in(event.metadata),
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
        cursor.execute(d.sql(f"UPDATE {self.t} SET {', '.join(sets)} WHERE session_id = ?"), params)

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
        limit = check_page_size(query.limit)
        if query.cursor is not None and query.offset is not None:
            raise InvalidInputError("cursor", "use either cursor or offset, not both")
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
        descending = query.order == "desc"
        if query.cursor is not None:
            position = decode_cursor(query.cursor, updated_at=str, id=str)
            where.append(f"(updated_at, session_id) {'<' if descending else '>'} (?, ?)")
            params += [d.time_in(_parse_time(position["updated_at"])), position["id"]]
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT * FROM {self.t} WHERE {' AND '.join(where)}"
            f" ORDER BY updated_at {direction}, session_id {direction} LIMIT ?"
        )
        params.append(limit + 1)
        if query.offset is not None:
            if query.offset < 0:
                raise InvalidInputError("offset", "must not be negative")
            sql += " OFFSET ?"
            params.append(query.offset)
        with self.read() as cursor:
            cursor.execute(d.sql(sql), params)
            rows = cursor.fetchall()
        summaries = [self._summary(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = summaries[-1]
            next_cursor = encode_cursor({"updated_at": last.updated_at.isoformat(), "id": last.id})
        return Page(summaries, next_cursor)

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


class SqlHistoryView(HistoryView):
    """The history as one table, `history`, keyed by session and version."""

    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("history")

    def create_statements(self) -> list[str]:
        d = self.d
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " session_id TEXT NOT NULL, version INTEGER NOT NULL, tenant_id TEXT NOT NULL,"
            f" message_id TEXT NOT NULL, role TEXT NOT NULL, message {d.json_type} NOT NULL,"
            f" actor TEXT NOT NULL, created_at {d.time_type} NOT NULL,"
            " PRIMARY KEY (session_id, version))",
        ]

    def add_message(self, cursor: Cursor, event: Session.MessageAppended) -> None:
        d = self.d
        message = event.message
        cursor.execute(
            d.sql(
                f"INSERT INTO {self.t} (session_id, version, tenant_id, message_id, role,"
                " message, actor, created_at) VALUES (?, ?, ?, ?, ?, ?j, ?, ?)"
            ),
            (
                str(event.originator_id),
                event.originator_version,
                event.tenant_id,
                message.id or "",
                message.role,
                d.json_in(message.model_dump(mode="json", exclude_none=True)),
                event.actor,
                d.time_in(event.timestamp),
            ),
        )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def list_messages(self, query: HistoryQuery) -> Page[HistoryEntry]:
        d = self.d
        if query.cursor is not None and query.offset is not None:
            raise InvalidInputError("cursor", "use either cursor or offset, not both")
        where = ["tenant_id = ?", "session_id = ?", "version > ?"]
        params: list[Any] = [query.tenant_id, query.session_id, query.after_version]
        if query.until_version is not None:
            where.append("version <= ?")
            params.append(query.until_version)
        descending = query.order == "desc"
        if query.cursor is not None:
            position = decode_cursor(query.cursor, version=int)
            where.append(f"version {'<' if descending else '>'} ?")
            params.append(position["version"])
        sql = (
            f"SELECT session_id, version, message, actor, created_at FROM {self.t}"
            f" WHERE {' AND '.join(where)} ORDER BY version {'DESC' if descending else 'ASC'}"
        )
        limit = None if query.limit is None else check_page_size(query.limit)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit + 1)
        if query.offset is not None:
            if query.offset < 0:
                raise InvalidInputError("offset", "must not be negative")
            # SQLite accepts OFFSET only after a LIMIT (-1: none).
            unlimited = limit is None and d.name == "sqlite"
            sql += " LIMIT -1 OFFSET ?" if unlimited else " OFFSET ?"
            params.append(query.offset)
        with self.read() as cursor:
            cursor.execute(d.sql(sql), params)
            rows = cursor.fetchall()
        entries = [
            HistoryEntry(
                session_id=row["session_id"],
                version=row["version"],
                message=Message.model_validate(d.json_out(row["message"])),
                created_at=d.time_out(row["created_at"]),
                actor=row["actor"],
            )
            for row in (rows if limit is None else rows[:limit])
        ]
        next_cursor = None
        if limit is not None and len(rows) > limit:
            next_cursor = encode_cursor({"version": entries[-1].version})
        return Page(entries, next_cursor)


def _parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError("cursor", "is not a cursor this server issued") from None
