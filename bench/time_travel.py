"""Time travel at scale: the state at the middle of a 10,000-message session, against the
raw driver reading the same message rows with an indexed SELECT (issue 4's target: 2x).

    .venv/bin/python -m bench.time_travel [--messages 10000] [--backends sqlite,postgres]

Writes `bench/results/time_travel.json` and prints a table. Sessions are built from the
ShareGPT corpus in calls of 100 messages; each read is timed 15 times (median, p95).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from bench.databases import DEFAULT_POSTGRES_URL, Target, analyze, fresh, postgres_reachable
from bench.sharegpt import messages as corpus_messages
from domain.context import CommandContext

RESULTS = Path(__file__).parent / "results" / "time_travel.json"
REPEATS = 15
RAW_SQL = (
    "SELECT version, seq, message, created_at FROM {table}"
    " WHERE session_id = {p} AND version > 0 AND version <= {p} ORDER BY version, seq"
)


def timed(read: Callable[[], Any]) -> dict[str, float]:
    read()  # warm
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        read()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
    }


def run(target: Target, size: int) -> dict[str, Any]:
    ledger = open_ledger(Settings(database_url=target.url))
    ctx = CommandContext(tenant_id="bench", actor="bench")
    session = ledger.create_session(ctx, title="time travel")
    source = corpus_messages()
    for _ in range(size // 100):
        ledger.append_messages(ctx, session.id, list(itertools.islice(source, 100)))
    analyze(target)
    middle = size // 2 + 1  # version of message number size/2 (version 1 is Created)
    state = ledger.get_state("bench", session.id, version=middle)
    assert len(state.messages) == size // 2
    ours = timed(lambda: ledger.get_state("bench", session.id, version=middle))
    ledger.close()
    if target.backend == "sqlite":
        assert target.sqlite_path is not None
        connection = sqlite3.connect(target.sqlite_path)
        query = RAW_SQL.format(table="history_messages", p="?")

        def raw() -> Any:
            return connection.execute(query, (str(session.id), middle)).fetchall()

    else:
        assert target.postgres_dsn is not None
        connection = psycopg.connect(target.postgres_dsn)
        query = RAW_SQL.format(table=f"{target.schema}.history_messages", p="%s").replace(
            "message,", "message::text,"
        )

        def raw() -> Any:
            return connection.execute(query, (str(session.id), middle), prepare=True).fetchall()

    assert len(raw()) == size // 2
    floor = timed(raw)
    connection.close()
    return {
        "backend": target.backend,
        "messages": size,
        "version": middle,
        "get_state": ours,
        "raw_select": floor,
        "ratio": round(ours["median_ms"] / floor["median_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args()
    results = []
    for backend in options.backends.split(","):
        if backend == "postgres" and (why := postgres_reachable(options.postgres_url)):
            print(f"postgres skipped: {why}")
            continue
        with fresh(backend, "time_travel", postgres_url=options.postgres_url) as target:
            results.append(run(target, options.messages))
    RESULTS.write_text(json.dumps({"time_travel": results}, indent=2) + "\n")
    print("backend   messages  version  get_state ms (p95)   raw SELECT ms (p95)   ratio")
    for r in results:
        print(
            f"{r['backend']:<9} {r['messages']:>8} {r['version']:>8}"
            f"  {r['get_state']['median_ms']:>8} ({r['get_state']['p95_ms']})"
            f"  {r['raw_select']['median_ms']:>10} ({r['raw_select']['p95_ms']})"
            f"  {r['ratio']:>8}"
        )


if __name__ == "__main__":
    main()
