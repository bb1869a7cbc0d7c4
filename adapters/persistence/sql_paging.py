"""Listing rows newest-updated first (or oldest), by keyset cursor or by offset.

Shared by the session and agent lists: filters come in as SQL conditions, the
order is `(updated_at, id)`, and a page asks for one row more than it shows to
know whether another page follows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from domain.errors import InvalidInputError
from projections.paging import check_page_size, decode_cursor, encode_cursor


def list_by_update(
    d: Dialect,
    read: ReadTransaction,
    *,
    table: str,
    id_column: str,
    where: list[str],
    params: list[Any],
    order: str,
    cursor: str | None,
    offset: int | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """One page of rows and the cursor of the next page (None on the last)."""
    limit = check_page_size(limit)
    if cursor is not None and offset is not None:
        raise InvalidInputError("cursor", "use either cursor or offset, not both")
    where, params = list(where), list(params)
    descending = order == "desc"
    if cursor is not None:
        position = decode_cursor(cursor, updated_at=str, id=str)
        where.append(f"(updated_at, {id_column}) {'<' if descending else '>'} (?, ?)")
        params += [d.time_in(_parse_time(position["updated_at"])), position["id"]]
    direction = "DESC" if descending else "ASC"
    sql = (
        f"SELECT * FROM {table} WHERE {' AND '.join(where)}"
        f" ORDER BY updated_at {direction}, {id_column} {direction} LIMIT ?"
    )
    params.append(limit + 1)
    if offset is not None:
        if offset < 0:
            raise InvalidInputError("offset", "must not be negative")
        sql += " OFFSET ?"
        params.append(offset)
    with read() as db:
        db.execute(d.sql(sql), params)
        rows = list(db.fetchall())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        updated_at = d.time_out(last["updated_at"]).isoformat()
        next_cursor = encode_cursor({"updated_at": updated_at, "id": last[id_column]})
    return rows[:limit], next_cursor


def _parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError("cursor", "is not a cursor this server issued") from None
