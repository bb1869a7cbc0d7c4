"""PostgreSQL, for production: events, snapshots and views in one schema.

The application recorder applies inline projections inside its insert
transaction, after the library has taken the events table's lock and fetched
the new notification ids, so positions advance in commit order.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

from adapters.persistence.chain import Chaining, EventChain
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.key_recording import KeyRecording
from adapters.persistence.sql_dialect import postgres_dialect


class ChatledgerPostgresRecorder(
    Chaining, KeyRecording, InlineProjecting, PostgresApplicationRecorder
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

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self.record_keys(curs, stored_events, kwargs)
        self.chain.record(curs, stored_events, kwargs)
        self.project_inline(curs, ids, kwargs)
        return ids


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
