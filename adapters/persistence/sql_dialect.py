"""What differs between SQLite and PostgreSQL for the views, in one small object.

A `Dialect` gives placeholders, JSON and time column types and conversions,
JSON containment, and schema-qualified table names; view SQL is written once
with `?` (and `?j` for JSON) and translated by `Dialect.sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from psycopg.rows import tuple_row

from projections.base import Cursor


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

    def plain_rows(self, cursor: Any) -> None:
        """Make `cursor` return tuples rather than mappings (for hot, positional reads)."""
        if self.name == "postgres":
            cursor.row_factory = tuple_row
        else:
            cursor.sqlite_cursor.row_factory = None

    def json_text(self, column: str) -> str:
        """`column` (a JSON column) selected as JSON text."""
        return f"{column}::text" if self.name == "postgres" else column

    def json_in(self, value: Any) -> str:
        return orjson.dumps(value).decode()

    def json_out(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def time_in(self, value: datetime) -> Any:
        return _iso_utc(value) if self.name == "sqlite" else value.astimezone(UTC)

    def time_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(value) if isinstance(value, str) else value


@lru_cache(maxsize=64)
def _iso_utc(value: datetime) -> str:
    """SQLite's time text: ISO 8601 in UTC, to the microsecond. Cached, as the views of
    one event write its time three times (session list, history, audit)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def execute_rows(cursor: Cursor, sql: str, rows: Sequence[Any]) -> None:
    """One statement over `rows`: `executemany` for several (one round trip, or one
    pipeline, on PostgreSQL), a plain `execute` for one (psycopg's `executemany` outside a
    pipeline opens one of its own)."""
    if len(rows) == 1:
        cursor.execute(sql, rows[0])
    elif rows:
        cursor.executemany(sql, rows)


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
