"""`python -m bench.chain_cost [--postgres-url URL]`: what the hash chain costs an append,
what it adds to storage, and how fast `verify` walks the log.

One ledger per backend holds two sessions per length, one of a tenant whose
appends record hashes and one whose appends run with hashing switched off
(`chain.record` made a no-op for them); single-message appends alternate between
the two round by round, on the same pool and under the same machine load. Prints
medians and p95 per backend, bytes per event of the events and of `event_hashes`,
and verification throughput over the chained streams.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.message import Message

CHAINED = CommandContext(tenant_id="bench", actor="bench")
PLAIN = CommandContext(tenant_id="plain", actor="bench")
LENGTHS = (10, 1000)
ROUNDS = 300


class Switch:
    """Turns one ledger's hashing on and off (off: `chain.record` does nothing)."""

    def __init__(self, ledger: Ledger) -> None:
        self.chain: Any = ledger.engine.recorder
        self.chain = self.chain.chain
        self.real = self.chain.record

    def set(self, on: bool) -> None:
        self.chain.record = self.real if on else (lambda *_: None)


def _sessions(ledger: Ledger, ctx: CommandContext) -> dict[int, Any]:
    sessions = {}
    for n in LENGTHS:
        session = ledger.create_session(ctx, title=f"n={n}")
        for start in range(0, n - 1, 100):
            batch = [Message.user(f"m{i}") for i in range(start, min(start + 100, n - 1))]
            ledger.append_messages(ctx, session.id, batch)
        sessions[n] = session.id
    return sessions


def _measure(ledger: Ledger, rounds: int) -> dict[str, dict[int, list[float]]]:
    """Seconds per append, chained and not, alternating in one ledger (same pool, load)."""
    switch = Switch(ledger)
    switch.set(False)
    plain = _sessions(ledger, PLAIN)
    switch.set(True)
    subjects = {"chained": (CHAINED, _sessions(ledger, CHAINED)), "unchained": (PLAIN, plain)}
    samples: dict[str, dict[int, list[float]]] = {k: {n: [] for n in LENGTHS} for k in subjects}
    for r in range(rounds):
        order = list(subjects.items())[:: 1 if r % 2 else -1]
        for name, (ctx, sessions) in order:
            switch.set(name == "chained")
            for n, sid in sessions.items():
                message = [Message.user(f"round {r}")]
                start = time.perf_counter()
                ledger.append_messages(ctx, sid, message)
                samples[name][n].append(time.perf_counter() - start)
    switch.set(True)
    return samples


def _bytes_per_event(ledger: Ledger, backend: str) -> tuple[float, float, int]:
    """Bytes per row of the events and of `event_hashes` (each with its index); events."""
    recorder: Any = ledger.engine.recorder
    per_row = []
    with recorder.datastore.transaction(commit=False) as cursor:
        for table in (recorder.chain.events_table, recorder.chain.table):
            cursor.execute(f"SELECT COUNT(*) AS n FROM {table}")
            rows = int(cursor.fetchone()["n"])
            if backend == "sqlite":
                cursor.execute(
                    "SELECT SUM(pgsize) AS size FROM dbstat WHERE name = ? OR name LIKE ?",
                    (table, f"sqlite_autoindex_{table}_%"),
                )
            else:
                cursor.execute("SELECT pg_total_relation_size(%s) AS size", (table,))
            per_row.append((int(cursor.fetchone()["size"] or 0) / max(rows, 1), rows))
    return per_row[0][0], per_row[1][0], per_row[0][1]


def _run(backend: str, url: str, rounds: int) -> None:
    ledger = open_ledger(Settings(database_url=url))
    try:
        samples = _measure(ledger, rounds)
        events_size, hashes_size, rows = _bytes_per_event(ledger, backend)
        report = ledger.verify(tenant_id=CHAINED.tenant_id)
    finally:
        ledger.close()
    print(f"\n{backend}: single-message append, {rounds} rounds (ms)")
    for n in LENGTHS:
        c, u = sorted(samples["chained"][n]), sorted(samples["unchained"][n])
        med_c, med_u = statistics.median(c) * 1e3, statistics.median(u) * 1e3
        p95_c, p95_u = c[int(len(c) * 0.95)] * 1e3, u[int(len(u) * 0.95)] * 1e3
        print(
            f"  N={n:>5}: median {med_u:.3f} -> {med_c:.3f} ({med_c - med_u:+.3f}),"
            f" p95 {p95_u:.3f} -> {p95_c:.3f}"
        )
    print(
        f"  storage: events {events_size:.0f} B/event ({rows} events),"
        f" event_hashes {hashes_size:.0f} B/hashed event"
    )
    print(
        f"  verify: {report.events} events in {report.seconds:.3f} s"
        f" = {report.events_per_second:,.0f} events/s ({report.verdict()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        d = Path(directory)
        _run("sqlite", f"sqlite:///{d / 'chain.db'}", args.rounds)
    schemas = [f"chain_bench_{uuid.uuid4().hex[:8]}"]
    try:
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    except psycopg.Error as error:
        print(f"\npostgres: skipped ({error})")
        return
    try:
        _run("postgres", f"{args.postgres_url}?schema={schemas[0]}", args.rounds)
    finally:
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
