"""Bytes on disk: a SQLite file after a WAL checkpoint, or a PostgreSQL schema's tables.

Both report the total and a per-table breakdown (SQLite's `dbstat`, one row per table
or index b-tree; PostgreSQL's `pg_total_relation_size`, a table with its indexes and
TOAST), so bytes per message can be traced to the events, snapshots and views.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.databases import Target


@dataclass
class Payload:
    """What the appended messages weigh before storage."""

    messages: int = 0
    text_bytes: int = 0
    """UTF-8 bytes of the message texts."""
    json_bytes: int = 0
    """Bytes of each message's JSON (`model_dump_json(exclude_none=True)`), as the API sees it."""

    def add(self, text: str, json_size: int) -> None:
        self.messages += 1
        self.text_bytes += len(text.encode())
        self.json_bytes += json_size


@dataclass(frozen=True)
class Storage:
    total_bytes: int
    tables: dict[str, int] = field(default_factory=dict)

    def since(self, empty: Storage) -> Storage:
        """What was added since `empty` (the same database before its first message)."""
        tables = {k: v - empty.tables.get(k, 0) for k, v in self.tables.items()}
        return Storage(self.total_bytes - empty.total_bytes, tables)

    def report(self, payload: Payload) -> dict[str, Any]:
        n = max(payload.messages, 1)
        return {
            "messages": payload.messages,
            "total_bytes": self.total_bytes,
            "bytes_per_message": round(self.total_bytes / n, 1),
            "payload_text_bytes_per_message": round(payload.text_bytes / n, 1),
            "payload_json_bytes_per_message": round(payload.json_bytes / n, 1),
            "overhead_vs_text": round(self.total_bytes / max(payload.text_bytes, 1), 2),
            "tables_bytes_per_message": {k: round(v / n, 1) for k, v in self.tables.items()},
        }


def measure(target: Target) -> Storage:
    if target.sqlite_path is not None:
        return sqlite_storage(target.sqlite_path)
    assert target.postgres_dsn is not None
    return postgres_storage(target.postgres_dsn, target.schema)


def sqlite_storage(path: Path) -> Storage:
    """File size after `PRAGMA wal_checkpoint(TRUNCATE)` (the WAL folded in and emptied)."""
    with sqlite3.connect(path) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError(f"could not checkpoint {path}: a connection is still reading")
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    conn.close()
    wal = path.with_name(path.name + "-wal")
    total = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    tables = dict(sorted(((str(n), int(s)) for n, s in rows), key=lambda r: -r[1]))
    return Storage(total, tables)


def postgres_storage(dsn: str, schema: str) -> Storage:
    """`pg_total_relation_size` (heap, indexes, TOAST) summed over the schema's tables."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 2 DESC",
            (schema,),
        ).fetchall()
    tables = {str(name): int(size) for name, size in rows}
    return Storage(sum(tables.values()), tables)
