"""The history view in SQL (`history`, keyed by session and version)."""

from __future__ import annotations

from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from domain.errors import InvalidInputError
from domain.message import Message
from domain.session import Session
from projections.base import Cursor
from projections.history import HistoryEntry, HistoryQuery, HistoryView
from projections.paging import Page, check_page_size, decode_cursor, encode_cursor


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
