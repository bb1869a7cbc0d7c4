"""Reads and storage, chatledger against the raw floor, quickly: the peer suite's read half.

`python -m bench.profile_reads [--backend sqlite|postgres] [--sizes 1000,10000]
[--profile history_10000]` builds chatledger's and the raw driver's sessions on fresh
databases (as `bench.peers` does), times their reads interleaved (history, 50-message
page, state at N/2), prints each read's median and its ratio to the raw floor, and the
bytes per message of every table and index. With `--profile READ` it then runs that
read under pyinstrument (needs `pyinstrument`) and prints where its time goes.
"""

from __future__ import annotations

import argparse
import gc
import json
from typing import Any

from bench import sharegpt
from bench.databases import DEFAULT_POSTGRES_URL, analyze, fresh
from bench.peers import measure
from bench.peers.chatledger_system import ChatledgerSystem
from bench.peers.measure import Feed
from bench.peers.plan import PeerPlan
from bench.peers.raw_system import RawSystem


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_reads", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--profile", default=None, help="e.g. page_10000, history_1000")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(","))
    plan = PeerPlan(
        name="reads",
        sizes=(),
        read_sizes=sizes,
        middle_sizes=sizes,
        read_repeats=args.repeats,
        read_budget=5.0,
    )
    sharegpt.corpus()
    gc.collect()
    gc.freeze()
    with (
        fresh(args.backend, "reads_chatledger", postgres_url=args.postgres_url) as ours,
        fresh(args.backend, "reads_raw", postgres_url=args.postgres_url) as floor,
    ):
        ledger, raw = ChatledgerSystem(ours), RawSystem(floor)
        empty = ledger.storage(), raw.storage()
        opened: dict[str, Any] = {}
        feeds: dict[str, Feed] = {}
        for system, target in ((ledger, ours), (raw, floor)):
            feeds[system.name] = Feed()
            sessions, _ = measure.build(system, feeds[system.name], plan)
            analyze(target)
            opened[system.name] = (system, sessions)
        figures = measure.reads(opened, plan)
        print(f"{'read':<22}{'chatledger ms':>14}{'raw ms':>10}{'ratio':>8}")
        for key, got in figures["chatledger"].items():
            mine, base = got["median_ms"], figures["raw"][key]["median_ms"]
            print(f"{key:<22}{mine:>14.3f}{base:>10.3f}{mine / base:>8.2f}")
        if args.profile:
            _profile(ledger, opened["chatledger"][1], args.profile)
        ledger.close()
        raw.close()
        for system, before in zip((ledger, raw), empty, strict=True):
            report = system.storage().since(before).report(feeds[system.name].payload)
            print(system.name, json.dumps(_nonzero(report), indent=1))


def _profile(system: ChatledgerSystem, sessions: dict[int, Any], read: str) -> None:
    from pyinstrument import Profiler

    kind, n = read.rsplit("_", 1)
    session = sessions[int(n)]
    call = {
        "history": lambda: system.history(session),
        "page": lambda: system.page(session, 50),
        "half": lambda: system.state_at(session, int(n) // 2),
    }[kind.removeprefix("state_at_")]
    profiler = Profiler(interval=0.0001)
    with profiler:
        for _ in range(200 if kind == "page" else 20):
            call()
    print(profiler.output_text(unicode=True, show_all=False))


def _nonzero(report: dict[str, Any]) -> dict[str, Any]:
    tables = report["tables_bytes_per_message"]
    return report | {"tables_bytes_per_message": {k: v for k, v in tables.items() if v}}


if __name__ == "__main__":
    main()
