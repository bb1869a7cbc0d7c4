"""The tamper-evident hash chain: every stored event's hash, written with the event.

Each stream (one aggregate: a session, an agent, …) is a chain. An event's hash is
SHA-256 over a domain tag, the previous event's hash in the same stream (32 zero
bytes for version 1), and length-prefixed: the tenant, the stream id, the version,
the topic and the `state` bytes exactly as the recorder stores them (never decoded:
they may be encrypted). Hashes live in `event_hashes`, keyed like the events, and
are written by the recorder in the transaction that records the events, so an
event and its hash commit together or not at all.

Writers are serialised by the store (SQLite's write lock, PostgreSQL's table lock
on the events), and the previous hash read inside the transaction is the committed
head. (PostgreSQL reads it in the transaction but before the lock, which is the
same: a writer appends version v only after it has seen version v - 1 committed,
and two writers of version v cannot both commit.) A per-process cache remembers
heads only once their transaction committed: a committed (stream, version) never
changes, so a cached hash is right in every process. This module imports the
standard library and the persistence helpers only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.persistence.sealing import readable_fields
from adapters.persistence.sql_dialect import Dialect

log = logging.getLogger(__name__)

GENESIS = bytes(32)
"""The "previous hash" of a stream's first event."""
HASH_TAG = b"chatledger/event-hash/v1\x00"
HASHES_TABLE = "event_hashes"
HEAD_CACHE_SIZE = 10_000
BACKFILL_BATCH = 1000


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def event_hash(
    prev: bytes, tenant_id: str, stream_id: str, version: int, topic: bytes, state: bytes
) -> bytes:
    """The hash of one event, chained to `prev` (see the module docstring).

    `stream_id` is the canonical text of the stream's UUID; `topic` its UTF-8 bytes.
    """
    digest = hashlib.sha256(HASH_TAG)
    digest.update(prev)
    digest.update(_field(tenant_id.encode()))
    digest.update(_field(stream_id.encode()))
    digest.update(version.to_bytes(8, "big", signed=True))
    digest.update(_field(topic))
    digest.update(_field(state))
    return digest.digest()


def hash_stored_event(prev: bytes, tenant_id: str, stored: StoredEvent) -> bytes:
    """`event_hash` of an event as the recorder is about to store it."""
    return event_hash(
        prev,
        tenant_id,
        str(stored.originator_id),
        stored.originator_version,
        stored.topic.encode(),
        bytes(stored.state),
    )


@dataclass(frozen=True)
class Head:
    """A stream's last hashed event: its version and hash."""

    stream_id: UUID
    version: int
    hash: bytes


class HeadCache:
    """Committed heads, per stream, most recent last (bounded; thread-safe)."""

    def __init__(self, size: int = HEAD_CACHE_SIZE) -> None:
        self.size = size
        self._heads: dict[UUID, Head] = {}
        self._lock = threading.Lock()

    def get(self, stream_id: UUID, version: int) -> bytes | None:
        with self._lock:
            head = self._heads.get(stream_id)
        return head.hash if head is not None and head.version == version else None

    def remember(self, heads: Iterable[Head]) -> None:
        with self._lock:
            for head in heads:
                self._heads.pop(head.stream_id, None)
                self._heads[head.stream_id] = head
            while len(self._heads) > self.size:
                del self._heads[next(iter(self._heads))]


class EventChain:
    """The `event_hashes` table of one store: created, backfilled, appended to."""

    def __init__(self, dialect: Dialect, events_table: str) -> None:
        self.d = dialect
        self.table = dialect.table(HASHES_TABLE)
        self.events_table = events_table
        self.heads = HeadCache()

    # ------------------------------------------------------------------ ids

    def stored_id(self, stream_id: UUID) -> Any:
        """A stream id as the store keeps it (hex text in SQLite, a uuid in PostgreSQL)."""
        return stream_id.hex if self.d.name == "sqlite" else stream_id

    # ------------------------------------------------------------------ schema

    def create_table(self, cursor: Any) -> None:
        """Create `event_hashes`; when it is new, hash the events stored before it."""
        existed = self._exists(cursor)
        blob, version, stream = (
            ("BLOB", "INTEGER", "TEXT") if self.d.name == "sqlite" else ("BYTEA", "BIGINT", "UUID")
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f"originator_id {stream} NOT NULL, originator_version {version} NOT NULL, "
            f"tenant_id TEXT NOT NULL, hash {blob} NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
            + (" WITHOUT ROWID" if self.d.name == "sqlite" else "")
        )
        if not existed:
            self._backfill(cursor)

    def _exists(self, cursor: Any) -> bool:
        if self.d.name == "sqlite":
            cursor.execute(
                "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
                (HASHES_TABLE,),
            )
        else:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (self.table,))
        row = cursor.fetchone()
        return bool(row and row["found"])

    def _backfill(self, cursor: Any) -> None:
        """Chain the events a store held before it had hashes (read once, at creation).

        Their tenant is read from them (plain JSON, or a sealed event's readable header).
        """
        after: tuple[Any, int] | None = None
        prev: tuple[Any, bytes] | None = None
        count = 0
        while batch := self._events_after(cursor, after):
            rows = []
            for stored in batch:
                chained = prev is not None and prev[0] == stored.originator_id
                tenant = _legacy_tenant(stored.state)
                digest = hash_stored_event(prev[1] if prev and chained else GENESIS, tenant, stored)
                rows.append(
                    (
                        self.stored_id(_uuid(stored.originator_id)),
                        stored.originator_version,
                        tenant,
                        digest,
                    )
                )
                prev = (stored.originator_id, digest)
            cursor.executemany(self._insert_sql(), rows)
            count += len(rows)
            last = batch[-1]
            after = (self.stored_id(_uuid(last.originator_id)), last.originator_version)
        if count:
            log.info("hash chain: backfilled %d events stored before it", count)

    def _events_after(self, cursor: Any, after: tuple[Any, int] | None) -> list[StoredEvent]:
        params: tuple[Any, ...]
        where, params = "", ()
        if after is not None:
            where = " WHERE originator_id > ? OR (originator_id = ? AND originator_version > ?)"
            params = (after[0], after[0], after[1])
        cursor.execute(
            self.d.sql(
                "SELECT originator_id, originator_version, topic, state"
                f" FROM {self.events_table}{where}"
                " ORDER BY originator_id, originator_version LIMIT ?"
            ),
            (*params, BACKFILL_BATCH),
        )
        return [
            StoredEvent(
                originator_id=_uuid(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cursor.fetchall()
        ]

    # ------------------------------------------------------------------ appends

    def record(
        self, cursor: Any, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> None:
        """Hash `stored_events` and write their hashes, in the recorder's transaction.

        The new heads go to `kwargs["chain_heads"]` (a list), for `remember` once the
        transaction has committed.
        """
        cursor.executemany(self._insert_sql(), self.rows(cursor, stored_events, kwargs))

    def rows(
        self, cursor: Any, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> list[tuple[Any, int, str, bytes]]:
        """Hash `stored_events`: their `event_hashes` rows, one per event and in their order,
        for the recorder to insert in its transaction (`record` does both).

        `cursor` reads a previous hash the head cache does not hold. The new heads go to
        `kwargs["chain_heads"]` as `record` says.
        """
        tenants = _tenants(stored_events, kwargs.get("recorded_events"))
        heads: dict[UUID, Head] = {}
        rows = []
        for stored, tenant in zip(stored_events, tenants, strict=True):
            stream = _uuid(stored.originator_id)
            version = stored.originator_version
            last = heads.get(stream)
            if last is not None and last.version == version - 1:
                prev = last.hash
            else:
                prev = self._previous_hash(cursor, stream, version)
            digest = hash_stored_event(prev, tenant, stored)
            heads[stream] = Head(stream, version, digest)
            rows.append((self.stored_id(stream), version, tenant, digest))
        pending = kwargs.get("chain_heads")
        if isinstance(pending, list):
            pending.extend(heads.values())
        return rows

    def remember(self, heads: Iterable[Head]) -> None:
        """Cache heads whose transaction committed."""
        self.heads.remember(heads)

    def _previous_hash(self, cursor: Any, stream: UUID, version: int) -> bytes:
        if version <= 1:
            return GENESIS
        cached = self.heads.get(stream, version - 1)
        if cached is not None:
            return cached
        cursor.execute(
            self.d.sql(
                f"SELECT hash FROM {self.table} WHERE originator_id = ? AND originator_version = ?"
            ),
            (self.stored_id(stream), version - 1),
        )
        row = cursor.fetchone()
        if row is None:
            # A hash row removed behind our back: chain from nothing; verify names the gap.
            log.warning("hash chain: no hash for %s version %d", stream, version - 1)
            return GENESIS
        return bytes(row["hash"])

    def _insert_sql(self) -> str:
        return self.d.sql(
            f"INSERT INTO {self.table} (originator_id, originator_version, tenant_id, hash)"
            " VALUES (?, ?, ?, ?)"
        )


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _tenants(stored_events: Sequence[StoredEvent], recorded: Any) -> Iterator[str]:
    """Each stored event's tenant, from the domain events recorded with it ("" if none)."""
    by_key: dict[tuple[str, int], str] = {}
    for event in recorded or ():
        tenant = getattr(event, "tenant_id", None)
        key = (str(getattr(event, "originator_id", "")), getattr(event, "originator_version", 0))
        by_key[key] = tenant if isinstance(tenant, str) else ""
    for stored in stored_events:
        yield by_key.get((str(stored.originator_id), stored.originator_version), "")


def _legacy_tenant(state: bytes) -> str:
    try:
        data = readable_fields(state)
    except ValueError:
        return ""
    tenant = data.get("tenant_id") if isinstance(data, dict) else None
    return tenant if isinstance(tenant, str) else ""


class Chaining:
    """Mixin for application recorders: hash every insert, cache heads after commit.

    The recorder sets `chain` in its constructor and calls `chain.record` inside its
    insert transaction; this mixin passes the list that collects the new heads.
    """

    chain: EventChain

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        heads: list[Head] = []
        ids = super().insert_events(stored_events, chain_heads=heads, **kwargs)  # type: ignore[misc]
        self.chain.remember(heads)
        return ids
