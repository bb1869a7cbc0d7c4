"""PostgreSQL, for production: events, snapshots and views in one schema.

An insert is one transaction in two round trips (`PipelinedPostgresRecorder`): one
call of `chatledger_record_events` writes the events, their hashes, their new keys
and the projections' positions; once its answer is in, the inline projections write
their views and the transaction commits.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from adapters.persistence.chain import HASHES_TABLE, Chaining, EventChain
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.key_recording import KeyRecording
from adapters.persistence.key_store import KEYS_TABLE
from adapters.persistence.pg_arrays import Array, BigintArray, ByteaArray, TextArray, UuidArray
from adapters.persistence.snapshot_reads import (
    snapshot_read_params,
    snapshot_read_sql,
    split_rows,
)
from adapters.persistence.sql_dialect import postgres_dialect
from adapters.persistence.sql_store import POSITIONS_TABLE

RECORD_FUNCTION = "chatledger_record_events"
"""Replaces `chatledger_insert_events` (events only), which older databases keep unused."""

_RECORD_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    stream_ids uuid[], versions bigint[], topics text[], states bytea[],
    tenants text[], hashes bytea[],
    key_sessions text[], key_names text[], wrapped_keys bytea[],
    projections text[],
    OUT ids bigint[], OUT moved text[])
LANGUAGE plpgsql AS $body$
BEGIN
    SET LOCAL lock_timeout = '{timeout}s';
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    WITH inserted AS (
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(stream_ids, versions, topics, states)
        RETURNING notification_id)
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM inserted;
    IF cardinality(hashes) > 0 THEN
        INSERT INTO {schema}.{hashes} (originator_id, originator_version, tenant_id, hash)
        SELECT * FROM unnest(stream_ids, versions, tenants, hashes);
    END IF;
    IF cardinality(key_names) > 0 THEN
        INSERT INTO {schema}.{keys} (session_id, name, wrapped)
        SELECT * FROM unnest(key_sessions, key_names, wrapped_keys);
    END IF;
    IF cardinality(projections) > 0 THEN
        WITH advanced AS (
            UPDATE {schema}.{positions} SET position = ids[cardinality(ids)]
            WHERE name = ANY(projections) AND position = COALESCE((
                SELECT MAX(notification_id) FROM {schema}.{table}
                WHERE notification_id < ids[1]), 0)
            RETURNING name)
        SELECT array_agg(name) INTO moved FROM advanced;
    END IF;
END;
$body$
"""
"""Under the library's lock timeout and table lock, with its NOTIFY: insert the events,
then their hashes (one per event, in order), the new keys, and move to the last new
notification every named projection position that stood just before the first
(`ViewStore.advance_positions`); `moved` names those. Empty arrays skip a write, so
a table that one of them would need need not exist."""


@dataclass(frozen=True)
class Extras:
    """What `chatledger_record_events` writes with the events."""

    hashes: Sequence[tuple[Any, int, str, bytes]] = ()
    """`event_hashes` rows, one per event and in their order (or none)."""
    keys: Sequence[tuple[str, str, bytes]] = ()
    """`session_keys` rows."""
    projections: Sequence[str] = ()
    """The projections whose positions to move with the events."""


class PipelinedPostgresRecorder(PostgresApplicationRecorder):
    """The library's application recorder, its insert transaction in two round trips.

    The library's takes six (its `transaction()` and pipeline each sync on the way in
    and out). Here one pipeline holds it: BEGIN, whatever `_extras` reads, the call of
    `chatledger_record_events` (the library's lock timeout, table lock, NOTIFY and
    insert, and the extras' writes, as one statement), then a flush for its answer;
    then `_after_ids` and COMMIT, sent with the pipeline's closing sync.
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(datastore.schema),
            "function": Identifier(RECORD_FUNCTION),
            "table": Identifier(events_table_name),
            "channel": Identifier(self.channel_name),
            "hashes": Identifier(HASHES_TABLE),
            "keys": Identifier(KEYS_TABLE),
            "positions": Identifier(POSITIONS_TABLE),
        }
        self.sql_create_statements.append(
            SQL(_RECORD_FUNCTION_SQL.strip()).format(timeout=datastore.lock_timeout, **names)
        )
        self.record_call = (
            SQL(
                "SELECT ids, moved FROM {schema}.{function}(%b, %b, %b, %b, %b, %b, %b, %b, %b, %b)"
            )
            .format(**names)
            .as_bytes(None)
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn:
            try:
                return self._insert_pipelined(conn, stored_events, kwargs)
            except BaseException:
                # Whichever statement failed (or if none did: no COMMIT was sent), the
                # transaction is over: end it before the connection goes back.
                with suppress(psycopg.Error):
                    conn.rollback()
                raise

    def _insert_pipelined(
        self, conn: Any, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> Sequence[int]:
        ids: Sequence[int] = []
        error: BaseException | None = None
        with conn.pipeline():
            cursor = conn.cursor()
            try:
                cursor.execute("BEGIN")
                extras = self._extras(cursor, stored_events, kwargs)
                params = _params(stored_events, extras, conn.info.encoding)
                cursor.execute(self.record_call, params, prepare=True)
                # A conflict is raised here, as the library's IntegrityError.
                row = cursor.fetchone()
                ids = row["ids"]
                moved = set(row["moved"] or ()) if extras.projections else None
                self._after_ids(cursor, ids, moved, kwargs)
                cursor.execute("COMMIT")
            except BaseException as caught:  # re-raised out of the pipeline, without its warning
                error = caught
        if error is not None:
            raise error
        return ids

    def _extras(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> Extras:
        """What to write with the events (may read with `cursor` first)."""
        return Extras()

    def _after_ids(
        self,
        cursor: Cursor[DictRow],
        ids: Sequence[int],
        moved: set[str] | None,
        kwargs: dict[str, Any],
    ) -> None:
        """Write what needs the notification ids (before the commit); `moved`: of the
        `Extras.projections`, those whose positions moved to them (None: none were given)."""


def _params(
    stored_events: Sequence[StoredEvent], extras: Extras, encoding: str
) -> tuple[Array, ...]:
    """The function's arguments; text in the connection's client `encoding`."""
    hashes, keys = extras.hashes, extras.keys
    if hashes and len(hashes) != len(stored_events):
        raise ValueError("one hash row per event")
    return (
        UuidArray.of([_uuid(e.originator_id) for e in stored_events]),
        BigintArray.of([e.originator_version for e in stored_events]),
        TextArray.of([e.topic for e in stored_events], encoding),
        ByteaArray.of([e.state for e in stored_events]),
        TextArray.of([row[2] for row in hashes], encoding),
        ByteaArray.of([row[3] for row in hashes]),
        TextArray.of([row[0] for row in keys], encoding),
        TextArray.of([row[1] for row in keys], encoding),
        ByteaArray.of([row[2] for row in keys]),
        TextArray.of(extras.projections, encoding),
    )


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class PostgresSnapshotReads:
    """Mixin for the events recorder: a session's newest snapshot and the events after it
    in one prepared statement, one round trip (`adapters.persistence.snapshot_reads`)."""

    datastore: Any
    events_table_name: str

    def select_from_snapshot(
        self, originator_id: UUID, snapshots: Any, *, lte: int | None
    ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        statement = _snapshot_read(
            self.datastore.schema,
            snapshots.events_table_name,
            self.events_table_name,
            bounded=lte is not None,
        )
        params = snapshot_read_params(originator_id, lte)
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, params, prepare=True, binary=True)
            rows = cursor.fetchall()
        return split_rows(originator_id, [tuple(row.values()) for row in rows])


@cache
def _snapshot_read(schema: str, snapshots: str, events: str, *, bounded: bool) -> Composed:
    text = snapshot_read_sql("{snapshots}", "{events}", "%s", bounded=bounded)
    return SQL(text).format(  # type: ignore[arg-type]
        snapshots=Identifier(schema, snapshots), events=Identifier(schema, events)
    )


class ChatledgerPostgresRecorder(
    Chaining, KeyRecording, InlineProjecting, PostgresSnapshotReads, PipelinedPostgresRecorder
):
    """Records events with their chained hashes and, in the same transaction, their keys
    and inline projections."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        dialect = postgres_dialect(datastore.schema)
        self.chain = EventChain(dialect, dialect.table(events_table_name))

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        self.chain.create_table(curs)

    def _extras(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> Extras:
        return Extras(
            hashes=self.chain.rows(cursor, stored_events, kwargs),
            keys=self.new_key_rows(stored_events, kwargs),
            projections=self._inline_names(kwargs),
        )

    def _after_ids(
        self,
        cursor: Cursor[DictRow],
        ids: Sequence[int],
        moved: set[str] | None,
        kwargs: dict[str, Any],
    ) -> None:
        self.destroy_keys(cursor, kwargs)
        events = kwargs.get("recorded_events")
        if self.inline is not None and ids and events:
            self.inline.apply_inline(cursor, events, ids, moved=moved)

    def _inline_names(self, kwargs: dict[str, Any]) -> tuple[str, ...]:
        """The inline projections whose positions the insert moves: all of them (the
        projector's `names`), or none, and then `apply_inline` moves them itself."""
        if self.inline is None or not kwargs.get("recorded_events"):
            return ()
        return self.inline.names


@contextmanager
def schema_lock(
    *, host: str, port: int, dbname: str, user: str, password: str, schema: str
) -> Iterator[None]:
    """Hold a session advisory lock on the schema while the block creates its tables.

    PostgreSQL's `CREATE TABLE IF NOT EXISTS` and `CREATE TYPE` race when two
    processes (a server and a worker) start at once; the lock makes them queue.
    """
    key = zlib.crc32(f"chatledger:{dbname}:{schema}".encode())
    with psycopg.connect(
        host=host, port=port, dbname=dbname, user=user, password=password or None, autocommit=True
    ) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
