"""PostgreSQL, for production: events, snapshots and views in one schema.

The application recorder applies inline projections inside its insert
transaction, after the library has taken the events table's lock and fetched
the new notification ids, so positions advance in commit order. That
transaction is pipelined into two round trips (`PipelinedPostgresRecorder`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from adapters.persistence.chain import Chaining, EventChain
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.key_recording import KeyRecording
from adapters.persistence.sql_dialect import postgres_dialect

INSERT_FUNCTION = "chatledger_insert_events"


class PipelinedPostgresRecorder(PostgresApplicationRecorder):
    """The library's application recorder, its insert transaction in two round trips.

    The library's takes six (its `transaction()` and pipeline each sync on the way in and
    out). Here: BEGIN, `chatledger_insert_events` (the library's lock timeout, table lock,
    NOTIFY and insert, as one statement), whatever `_before_ids` writes and `_with_insert`
    asks, then one sync for the notification ids and those answers; then `_after_ids`
    and COMMIT, sent with the pipeline's closing sync. Subclasses write through the hooks.
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(datastore.schema),
            "function": Identifier(INSERT_FUNCTION),
            "type": Identifier(self.stored_event_type_name),
            "table": Identifier(events_table_name),
            "channel": Identifier(self.channel_name),
        }
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{type}[])"
                " RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ BEGIN"
                " SET LOCAL lock_timeout = '{timeout}s';"
                " LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
                " NOTIFY {channel};"
                " RETURN QUERY INSERT INTO {schema}.{table}"
                " (originator_id, originator_version, topic, state)"
                " SELECT originator_id, originator_version, topic, state FROM unnest(events)"
                " RETURNING notification_id;"
                " END; $body$"
            ).format(timeout=datastore.lock_timeout, **names)
        )
        self.insert_function_call = (
            SQL("SELECT * FROM {schema}.{function}(%s) AS id").format(**names).as_bytes(None)
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
                # Whichever statement failed (at a sync, or at the pipeline's closing one),
                # the transaction is over: end it before the connection goes back.
                with suppress(psycopg.Error):
                    conn.rollback()
                raise

    def _insert_pipelined(
        self, conn: Any, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> Sequence[int]:
        ids: Sequence[int] = []
        error: BaseException | None = None
        with conn.pipeline() as pipeline:
            events, cursor, positions = conn.cursor(), conn.cursor(), conn.cursor()
            try:
                cursor.execute("BEGIN")
                events.execute(
                    self.insert_function_call, (self._composites(stored_events),), prepare=True
                )
                self._before_ids(cursor, stored_events, kwargs)
                self._with_insert(positions, len(stored_events), kwargs)
                pipeline.sync()  # a conflict is raised here, as the library's IntegrityError
                ids = [row["id"] for row in events.fetchall()]
                self._after_ids(cursor, ids, kwargs)
                cursor.execute("COMMIT")
            except BaseException as caught:  # re-raised out of the pipeline, without its warning
                error = caught
        if error is not None:
            raise error
        return ids

    def _composites(self, stored_events: Sequence[StoredEvent]) -> list[Any]:
        return [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]

    def _before_ids(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> None:
        """Write what does not need the notification ids (queued with the insert)."""

    def _with_insert(self, cursor: Cursor[DictRow], count: int, kwargs: dict[str, Any]) -> None:
        """Queue a statement on the newest `count` notifications, its own `cursor` to read."""

    def _after_ids(
        self, cursor: Cursor[DictRow], ids: Sequence[int] | None, kwargs: dict[str, Any]
    ) -> None:
        """Write what needs the notification ids (before COMMIT)."""


class ChatledgerPostgresRecorder(
    Chaining, KeyRecording, InlineProjecting, PipelinedPostgresRecorder
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

    def _before_ids(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> None:
        self.record_keys(cursor, stored_events, kwargs)
        self.chain.record(cursor, stored_events, kwargs)

    def _with_insert(self, cursor: Cursor[DictRow], count: int, kwargs: dict[str, Any]) -> None:
        self.advance_inline(cursor, count, kwargs)

    def _after_ids(
        self, cursor: Cursor[DictRow], ids: Sequence[int] | None, kwargs: dict[str, Any]
    ) -> None:
        self.project_inline(cursor, ids, kwargs)


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
