"""A session's newest snapshot and the events after it, in one statement.

The SQL and the rows' reading that the events recorders of both backends share
(`SQLiteSnapshotReads`, `PostgresSnapshotReads`; the port is
`domain.repository.SnapshotReads`): one SELECT reads the newest snapshot at or below a
version from the snapshots' table and, in the same statement, the events after it up to
that version, so loading a session outside the cache or at a past version is one
statement (one round trip on PostgreSQL) and one consistent view of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

_SQL = (
    "WITH snapshot AS ("
    " SELECT originator_version, topic, state FROM {snapshots}"
    " WHERE originator_id = {p}{upper} ORDER BY originator_version DESC LIMIT 1)"
    " SELECT 1 AS is_snapshot, originator_version, topic, state FROM snapshot"
    " UNION ALL"
    " SELECT 0, originator_version, topic, state FROM {events}"
    " WHERE originator_id = {p}"
    " AND originator_version > COALESCE((SELECT originator_version FROM snapshot), 0){upper}"
    " ORDER BY is_snapshot DESC, originator_version"
)


def snapshot_read_sql(snapshots: str, events: str, param: str, *, bounded: bool) -> str:
    """The statement, with `param` as the placeholder; `bounded`: up to a version."""
    upper = f" AND originator_version <= {param}" if bounded else ""
    return _SQL.format(snapshots=snapshots, events=events, p=param, upper=upper)


def snapshot_read_params(key: Any, lte: int | None) -> list[Any]:
    """The statement's parameters: the session's key (and the version) for each half."""
    return [key, lte] * 2 if lte is not None else [key] * 2


def split_rows(
    originator_id: UUID, rows: Sequence[Any]
) -> tuple[StoredEvent | None, list[StoredEvent]]:
    """The snapshot (if a row is one) and the events, from the statement's rows."""
    stored = [(row[0], StoredEvent(originator_id, row[1], row[2], bytes(row[3]))) for row in rows]
    snapshot = stored[0][1] if stored and stored[0][0] else None
    return snapshot, [event for is_snapshot, event in stored if not is_snapshot]
