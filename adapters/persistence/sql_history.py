"""The history view in SQL (`history`, keyed by session and version)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json

from adapters.persistence.sql_dialect import Dialect, ReadTransaction, execute_rows
from domain.errors import InvalidInputError
from domain.session import Session
from projections.base import Cursor
from projections.history import (
    HistoryEntry,
    HistoryQuery,
    HistoryView,
    SessionNotInViewError,
    placeholder_message,
)
from projections.paging import Page, check_page_size, decode_cursor, encode_cursor

COLUMNS = "session_id, version, seq, tenant_id, message_id, role, message, actor, created_at"


class SqlHistoryView(HistoryView):
    """The history as one table, `history_messages`, keyed by session, version and sequence.

    Messages are stored as JSON text, on PostgreSQL too: nothing queries inside them, and
    reading `jsonb` back as text costs a conversion per row (twice the time of the whole
    read of a long history). Tables created with a `jsonb` column keep working: a message
    is passed untyped, and read as `message::text`.
    """

    def __init__(
        self, dialect: Dialect, read: ReadTransaction, read_statement: ReadTransaction | None = None
    ) -> None:
        self.d = dialect
        self.read = read
        self.read_statement = read_statement or read
        """Pages are read in one statement each (`SqlViewStore.statement`)."""
        self.t = dialect.table("history_messages")
        self.sessions = dialect.table("history_sessions")
        self._insert_message = dialect.sql(
            f"INSERT INTO {self.t} ({COLUMNS}) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)"
        )

    def create_statements(self) -> list[str]:
        d = self.d
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " session_id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " tenant_id TEXT NOT NULL, message_id TEXT NOT NULL, role TEXT NOT NULL,"
            " message TEXT NOT NULL, actor TEXT NOT NULL,"
            f" created_at {d.time_type} NOT NULL,"
            " origin_session_id TEXT, origin_version INTEGER,"
            " PRIMARY KEY (session_id, version, seq))",
            f"CREATE INDEX IF NOT EXISTS history_copies ON {self.t} (origin_session_id)"
            " WHERE origin_session_id IS NOT NULL",
            # Live sessions only (deleting one deletes its row); sessions created before
            # this table have no row, and their pages are checked by the engine.
            f"CREATE TABLE IF NOT EXISTS {self.sessions} (session_id TEXT PRIMARY KEY,"
            " tenant_id TEXT NOT NULL, after_version INTEGER NOT NULL)"
            + (" WITHOUT ROWID" if d.name == "sqlite" else ""),
        ]

    def start_session(self, cursor: Cursor, event: Session.Created) -> None:
        cursor.execute(
            self.d.sql(
                f"INSERT INTO {self.sessions} (session_id, tenant_id, after_version)"
                " VALUES (?, ?, 0)"
            ),
            (str(event.originator_id), event.tenant_id),
        )

    def move_window(self, cursor: Cursor, session_id: str, after_version: int) -> None:
        cursor.execute(
            self.d.sql(f"UPDATE {self.sessions} SET after_version = ? WHERE session_id = ?"),
            (after_version, session_id),
        )

    def end_session(self, cursor: Cursor, session_id: str) -> None:
        cursor.execute(
            self.d.sql(f"DELETE FROM {self.sessions} WHERE session_id = ?"), (session_id,)
        )

    def inherit(
        self,
        cursor: Cursor,
        event: Session.Forked | Session.Merged,
        sources: list[tuple[str, int, int]],
        *,
        interleave: bool,
    ) -> None:
        d = self.d
        windows = " UNION ALL ".join(
            f"SELECT ? AS rank, {COLUMNS}, origin_session_id, origin_version FROM {self.t}"
            " WHERE session_id = ? AND version > ? AND version <= ?"
            for _ in sources
        )
        params: list[object] = []
        for rank, (session_id, after, upto) in enumerate(sources):
            params += [rank, session_id, after, upto]
        order = "created_at, rank, version, seq" if interleave else "rank, version, seq"
        cursor.execute(
            d.sql(
                f"INSERT INTO {self.t} ({COLUMNS}, origin_session_id, origin_version)"
                f" SELECT ?, 1, ROW_NUMBER() OVER (ORDER BY {order}), ?, message_id, role,"
                " message, actor, created_at, COALESCE(origin_session_id, session_id),"
                f" COALESCE(origin_version, version) FROM ({windows}) AS inherited"
            ),
            [str(event.originator_id), event.tenant_id, *params],
        )

    def add_messages(self, cursor: Cursor, events: Sequence[Session.MessageAppended]) -> None:
        time_in = self.d.time_in
        rows = [
            (
                str(event.originator_id),
                event.originator_version,
                event.tenant_id,
                event.message.id or "",
                event.message.role,
                to_json(event.message, exclude_none=True).decode(),
                event.actor,
                time_in(event.timestamp),
            )
            for event in events
        ]
        execute_rows(cursor, self._insert_message, rows)

    def scrub(self, cursor: Cursor, session_id: str, mark: str, message_id: str | None) -> None:
        d = self.d
        by_message = "" if message_id is None else " AND message_id = ?"
        extra = [] if message_id is None else [message_id]
        rows = []
        for where in ("session_id = ? AND origin_session_id IS NULL", "origin_session_id = ?"):
            cursor.execute(
                d.sql(
                    f"SELECT session_id, version, seq, {d.json_text('message')} AS message"
                    f" FROM {self.t} WHERE {where}{by_message}"
                ),
                [session_id, *extra],
            )
            rows += cursor.fetchall()
        update = d.sql(
            f"UPDATE {self.t} SET message = ? WHERE session_id = ? AND version = ? AND seq = ?"
        )
        for row in rows:
            scrubbed = placeholder_message(d.json_out(row["message"]), mark)
            cursor.execute(
                update, (d.json_in(scrubbed), row["session_id"], row["version"], row["seq"])
            )

    def get_message_origin(self, tenant_id: str, session_id: str, message_id: str) -> str | None:
        d = self.d
        with self.read() as cursor:
            cursor.execute(
                d.sql(
                    f"SELECT COALESCE(origin_session_id, session_id) AS origin FROM {self.t}"
                    " WHERE tenant_id = ? AND session_id = ? AND message_id = ? LIMIT 1"
                ),
                (tenant_id, session_id, message_id),
            )
            row = cursor.fetchone()
        return None if row is None else str(row["origin"])

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")
        cursor.execute(f"DELETE FROM {self.sessions}")

    def list_messages(self, query: HistoryQuery) -> Page[HistoryEntry]:
        sql, params = self._page_sql(query)
        limit = None if query.limit is None else check_page_size(query.limit)
        rows = self._read_page(query, sql, params)
        if rows is None:
            raise SessionNotInViewError(query.session_id)
        session_id = query.session_id
        from_row = HistoryEntry.from_row
        entries = [from_row(session_id, row) for row in (rows if limit is None else rows[:limit])]
        next_cursor = None
        if limit is not None and len(rows) > limit:
            last = entries[-1]
            next_cursor = encode_cursor({"version": last.version, "seq": last.seq})
        return Page(entries, next_cursor)

    def _read_page(self, query: HistoryQuery, sql: str, params: list[Any]) -> list[Any] | None:
        """The page's rows (one more than the limit), in one statement; None when the query
        leaves the window to the view and the view holds no such live session."""
        d = self.d
        with self.read_statement() as cursor:
            d.plain_rows(cursor)  # tuples: a long history is read at the driver's pace
            cursor.execute(sql, params)
            rows: list[Any] = cursor.fetchall()
            if rows or query.after_version is not None:
                return rows
            # An empty page: of a live session, or of none the view holds?
            cursor.execute(
                d.sql(f"SELECT 1 FROM {self.sessions} WHERE session_id = ? AND tenant_id = ?"),
                (query.session_id, query.tenant_id),
            )
            return rows if cursor.fetchone() is not None else None

    def _page_sql(self, query: HistoryQuery) -> tuple[str, list[Any]]:
        """The page's SELECT and its parameters."""
        d = self.d
        if query.cursor is not None and query.offset is not None:
            raise InvalidInputError("cursor", "use either cursor or offset, not both")
        where = ["tenant_id = ?", "session_id = ?"]
        params: list[Any] = [query.tenant_id, query.session_id]
        if query.after_version is None:
            # The view's own last clear; no row (no live session): no messages.
            where.append(
                f"version > (SELECT after_version FROM {self.sessions}"
                " WHERE session_id = ? AND tenant_id = ?)"
            )
            params += [query.session_id, query.tenant_id]
        else:
            where.append("version > ?")
            params.append(query.after_version)
        if query.until_version is not None:
            where.append("version <= ?")
            params.append(query.until_version)
        descending = query.order == "desc"
        if query.cursor is not None:
            position = decode_cursor(query.cursor, version=int)
            seq = position.get("seq", 0)
            if type(seq) is not int or not 0 <= seq < 2**31:
                raise InvalidInputError("cursor", "is not a cursor this server issued")
            where.append(f"(version, seq) {'<' if descending else '>'} (?, ?)")
            params += [position["version"], seq]
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT version, seq, {d.json_text('message')}, actor, created_at,"
            f" origin_session_id, origin_version FROM {self.t} WHERE {' AND '.join(where)}"
            f" ORDER BY version {direction}, seq {direction}"
        )
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(check_page_size(query.limit) + 1)
        if query.offset is not None:
            if query.offset < 0:
                raise InvalidInputError("offset", "must not be negative")
            # SQLite accepts OFFSET only after a LIMIT (-1: none).
            unlimited = query.limit is None and d.name == "sqlite"
            sql += " LIMIT -1 OFFSET ?" if unlimited else " OFFSET ?"
            params.append(query.offset)
        return d.sql(sql), params
