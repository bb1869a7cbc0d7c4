"""PostgreSQL, for production: events, snapshots and views in one schema.

The application recorder applies inline projections inside its insert
transaction, after the library has taken the events table's lock and fetched
the new notification ids, so positions advance in commit order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

from adapters.persistence.inline import InlineProjecting


class ChatledgerPostgresRecorder(InlineProjecting, PostgresApplicationRecorder):
    """Records events and, in the same transaction, applies inline projections."""

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self.project_inline(curs, ids, kwargs)
        return ids
