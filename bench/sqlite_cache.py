"""SQLite's page cache and memory map against appends and reads, in one process.

`python -m bench.sqlite_cache [--rounds 60]` opens four ledgers on fresh SQLite files, one
per setting (`sqlite_cache_mib` 2 or 64, `sqlite_mmap_mib` 0 or 1024; 2 MiB without a map
is SQLite's own default), builds a 1,000-message session in each, then appends to them in
alternation: each round, ten single-message appends and one whole-history read per ledger,
the order reversed every other round, so that all four see the same machine. Prints each
setting's median append and median read (the read comes right after that ledger's writes).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from contextlib import ExitStack
from typing import Any

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from bench.chatledger_runs import CTX, Messages, build_session
from bench.databases import fresh
from bench.sharegpt import corpus

SETTINGS: dict[str, dict[str, int]] = {
    "2 MiB, no map (SQLite's default)": {"sqlite_cache_mib": 2, "sqlite_mmap_mib": 0},
    "64 MiB, 1 GiB map (chatledger's)": {"sqlite_cache_mib": 64, "sqlite_mmap_mib": 1024},
    "64 MiB, no map": {"sqlite_cache_mib": 64, "sqlite_mmap_mib": 0},
    "2 MiB, 1 GiB map": {"sqlite_cache_mib": 2, "sqlite_mmap_mib": 1024},
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sqlite_cache", description=__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--length", type=int, default=1_000)
    args = parser.parse_args(argv)
    corpus()
    gc.collect()
    gc.freeze()
    with ExitStack() as stack:
        runs: dict[str, tuple[Any, Any, Messages]] = {}
        for number, (name, settings) in enumerate(SETTINGS.items()):
            target = stack.enter_context(fresh("sqlite", f"cache{number}", postgres_url=""))
            ledger = open_ledger(Settings(database_url=target.url, **settings))
            stack.callback(ledger.close)
            messages = Messages()
            session, _ = build_session(ledger, messages, args.length, 100)
            runs[name] = (ledger, session, messages)
        appends: dict[str, list[float]] = {name: [] for name in runs}
        reads: dict[str, list[float]] = {name: [] for name in runs}
        for round_number in range(args.rounds):
            order = list(runs.items())
            for name, (ledger, session, messages) in order[:: 1 if round_number % 2 else -1]:
                for batch in [messages.take(1) for _ in range(10)]:
                    started = time.perf_counter()
                    ledger.append_messages(CTX, session, batch)
                    appends[name].append(time.perf_counter() - started)
                started = time.perf_counter()
                ledger.get_state(CTX.tenant_id, session)
                reads[name].append(time.perf_counter() - started)
    for name in runs:
        print(
            f"{name:34} append {1000 * statistics.median(appends[name]):6.3f} ms"
            f"   history after the writes {1000 * statistics.median(reads[name]):7.2f} ms"
        )


if __name__ == "__main__":
    main()
