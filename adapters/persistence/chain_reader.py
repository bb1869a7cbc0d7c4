"""Reading the events and their hashes back for verification: one snapshot, two streams.

`ChainReader.reading()` opens one consistent read (a SQLite read transaction; a
PostgreSQL REPEATABLE READ transaction) in which the events and the hash rows are
streamed apart, each ordered by (stream, version) as the database orders them,
through cursors that hold one batch at a time. Rows come back as they are
stored, whatever was written into them by hand: on SQLite every value is read
with its storage class (`typeof`) and as bytes, so a text where a number belongs
or bytes that are not UTF-8 become a `problem`, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from adapters.persistence.chain import EventChain

BATCH_ROWS = 500
STREAMS_PER_QUERY = 500
HASH_BYTES = 32

Key = tuple[Any, Any]
"""A row's (stream, version), each sortable as the database orders them."""


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored event, as found."""

    key: Key
    stream_id: str
    version: int | None
    topic: bytes | None
    state: bytes | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class HashRow:
    """One hash row, as found."""

    key: Key
    stream_id: str
    version: int | None
    tenant_id: str | None
    hash: bytes | None
    problem: str | None = None


class ChainSnapshot:
    """The events and hashes of one consistent read (see `ChainReader.reading`)."""

    def streams_of(self, tenant_id: str) -> list[str]:
        """The ids of the streams with a hash row for `tenant_id`, in database order."""
        raise NotImplementedError

    def events(self, streams: Sequence[str] | None) -> Iterator[EventRow]:
        """Every event (of `streams` only, when given, in database order)."""
        raise NotImplementedError

    def hashes(self, streams: Sequence[str] | None) -> Iterator[HashRow]:
        """Every hash row (of `streams` only, when given, in database order)."""
        raise NotImplementedError


class ChainReader:
    """Opens consistent reads of one store's events and hashes."""

    def __init__(self, datastore: Any, chain: EventChain) -> None:
        self.datastore = datastore
        self.chain = chain

    @contextmanager
    def reading(self) -> Iterator[ChainSnapshot]:
        if self.chain.d.name == "sqlite":
            with self.datastore.transaction(commit=False) as cursor:
                yield SQLiteChainSnapshot(cursor.sqlite_cursor.connection, self.chain)
        else:
            with self.datastore.get_connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield PostgresChainSnapshot(conn, self.chain)


def _chunks(streams: Sequence[str] | None) -> Iterator[Sequence[str] | None]:
    if streams is None:
        yield None
        return
    for start in range(0, len(streams), STREAMS_PER_QUERY):
        yield streams[start : start + STREAMS_PER_QUERY]


# ---------------------------------------------------------------------- SQLite

_RANK = {"null": 0, "integer": 1, "real": 1, "text": 2, "blob": 3}


def _typed(kind: str, raw: bytes | None) -> Any:
    """A value read as (storage class, bytes), as Python compares it in SQLite's order."""
    if kind == "integer":
        return int(raw or b"0")
    if kind == "real":
        return float(raw or b"0")
    return raw or b""


def _sqlite_value(row: Sequence[Any], at: int) -> tuple[str, bytes | None]:
    return str(row[at]), row[at + 1]


def _sqlite_id(kind: str, raw: bytes | None) -> tuple[str, str | None]:
    """The canonical id of a stored stream id, or a printable form and a problem."""
    if kind == "text" and raw is not None:
        text = raw.decode("utf-8", "replace")
        try:
            if UUID(text).hex == text:
                return str(UUID(text)), None
        except ValueError:
            pass
        return text, "stream id is not a UUID's hex"
    return f"<{kind}>", f"stream id is {kind}"


def _sqlite_key(row: Sequence[Any]) -> Key:
    id_kind, id_raw = _sqlite_value(row, 0)
    version_kind, version_raw = _sqlite_value(row, 2)
    return (
        (_RANK[id_kind], _typed(id_kind, id_raw)),
        (_RANK[version_kind], _typed(version_kind, version_raw)),
    )


def _sqlite_version(kind: str, raw: bytes | None) -> tuple[int | None, str | None]:
    if kind == "integer" and raw is not None:
        return int(raw), None
    return None, f"version is {kind}"


def _cast(column: str) -> str:
    return f"typeof({column}), CAST({column} AS BLOB)"


class SQLiteChainSnapshot(ChainSnapshot):
    def __init__(self, connection: Any, chain: EventChain) -> None:
        self.connection = connection
        self.chain = chain

    def _rows(self, sql: str, streams: Sequence[str] | None) -> Iterator[Sequence[Any]]:
        for chunk in _chunks(streams):
            cursor = self.connection.cursor()
            cursor.row_factory = None
            where, params = "", []
            if chunk is not None:
                where = f" WHERE originator_id IN ({', '.join('?' * len(chunk))})"
                params = [UUID(s).hex for s in chunk]
            try:
                cursor.execute(sql.format(where=where), params)
                while batch := cursor.fetchmany(BATCH_ROWS):
                    yield from batch
            finally:
                cursor.close()

    def streams_of(self, tenant_id: str) -> list[str]:
        cursor = self.connection.cursor()
        cursor.row_factory = None
        cursor.execute(
            f"SELECT DISTINCT {_cast('originator_id')} FROM {self.chain.table}"
            " WHERE tenant_id = ? ORDER BY originator_id",
            (tenant_id,),
        )
        found = [_sqlite_id(str(kind), raw) for kind, raw in cursor.fetchall()]
        cursor.close()
        return [stream for stream, problem in found if problem is None]

    def events(self, streams: Sequence[str] | None) -> Iterator[EventRow]:
        sql = (
            f"SELECT {_cast('originator_id')}, {_cast('originator_version')},"
            f" {_cast('topic')}, {_cast('state')} FROM {self.chain.events_table}{{where}}"
            " ORDER BY originator_id, originator_version"
        )
        for row in self._rows(sql, streams):
            stream_id, id_problem = _sqlite_id(*_sqlite_value(row, 0))
            version, version_problem = _sqlite_version(*_sqlite_value(row, 2))
            topic_kind, topic = _sqlite_value(row, 4)
            state_kind, state = _sqlite_value(row, 6)
            problem = (
                id_problem
                or version_problem
                or (None if topic_kind == "text" else f"topic is {topic_kind}")
                or (None if state_kind == "blob" else f"state is {state_kind}")
            )
            yield EventRow(_sqlite_key(row), stream_id, version, topic, state, problem)

    def hashes(self, streams: Sequence[str] | None) -> Iterator[HashRow]:
        sql = (
            f"SELECT {_cast('originator_id')}, {_cast('originator_version')},"
            f" {_cast('tenant_id')}, {_cast('hash')} FROM {self.chain.table}{{where}}"
            " ORDER BY originator_id, originator_version"
        )
        for row in self._rows(sql, streams):
            stream_id, id_problem = _sqlite_id(*_sqlite_value(row, 0))
            version, version_problem = _sqlite_version(*_sqlite_value(row, 2))
            tenant_kind, tenant_raw = _sqlite_value(row, 4)
            hash_kind, digest = _sqlite_value(row, 6)
            tenant, tenant_problem = _sqlite_tenant(tenant_kind, tenant_raw)
            problem = (
                id_problem
                or version_problem
                or tenant_problem
                or _hash_problem(hash_kind == "blob", digest)
            )
            yield HashRow(_sqlite_key(row), stream_id, version, tenant, digest, problem)


def _sqlite_tenant(kind: str, raw: bytes | None) -> tuple[str | None, str | None]:
    if kind != "text" or raw is None:
        return None, f"tenant is {kind}"
    try:
        return raw.decode(), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), "tenant is not UTF-8"


def _hash_problem(is_bytes: bool, digest: bytes | None) -> str | None:
    if not is_bytes or digest is None or len(digest) != HASH_BYTES:
        return "stored hash is not 32 bytes"
    return None


# ---------------------------------------------------------------------- PostgreSQL


class PostgresChainSnapshot(ChainSnapshot):
    def __init__(self, connection: Any, chain: EventChain) -> None:
        self.connection = connection
        self.chain = chain

    def _rows(self, name: str, sql: str, streams: Sequence[str] | None) -> Iterator[Any]:
        for chunk in _chunks(streams):
            where, params = "", []
            if chunk is not None:
                where, params = " WHERE originator_id = ANY(%s)", [[UUID(s) for s in chunk]]
            with self.connection.cursor(name=name, row_factory=tuple_row) as cursor:
                cursor.execute(sql.format(where=where), params)
                while batch := cursor.fetchmany(BATCH_ROWS):
                    yield from batch

    def streams_of(self, tenant_id: str) -> list[str]:
        with self.connection.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(
                f"SELECT DISTINCT originator_id FROM {self.chain.table}"
                " WHERE tenant_id = %s ORDER BY originator_id",
                (tenant_id,),
            )
            return [str(stream) for (stream,) in cursor.fetchall()]

    def events(self, streams: Sequence[str] | None) -> Iterator[EventRow]:
        sql = (
            "SELECT originator_id, originator_version, topic, state"
            f" FROM {self.chain.events_table}{{where}} ORDER BY originator_id, originator_version"
        )
        for stream, version, topic, state in self._rows("chain_events", sql, streams):
            problem = (
                "topic is null" if topic is None else "state is null" if state is None else None
            )
            yield EventRow(
                (stream.bytes, version),
                str(stream),
                version,
                None if topic is None else topic.encode(),
                None if state is None else bytes(state),
                problem,
            )

    def hashes(self, streams: Sequence[str] | None) -> Iterator[HashRow]:
        sql = (
            "SELECT originator_id, originator_version, tenant_id, hash"
            f" FROM {self.chain.table}{{where}} ORDER BY originator_id, originator_version"
        )
        for stream, version, tenant, digest in self._rows("chain_hashes", sql, streams):
            stored = bytes(digest)
            yield HashRow(
                (stream.bytes, version),
                str(stream),
                version,
                tenant,
                stored,
                _hash_problem(True, stored),
            )
