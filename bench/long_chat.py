"""Chat turns late in a long conversation: their median, their tail, and full collections.

`python -m bench.long_chat [--backend sqlite|postgres] [--before 500] [--turns 100]`
opens a ledger on a fresh database, pointed at the fake provider (`bench.fake_openai`),
runs `--before` turns of one session, then times `--turns` more and counts Python's full
(generation 2) garbage collections among them with `gc.callbacks`. Nothing is frozen
(`gc.freeze()`), as in a program that uses the Python API and does not freeze. Then it
prints the stored bytes of the log's events by type (their `state`, sealed as stored),
which show whether a turn's record grows with the conversation.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import Counter
from typing import Any

from bench.chat_ledger import chat_ledger
from bench.chatledger_runs import CTX
from bench.databases import DEFAULT_POSTGRES_URL


class FullCollections:
    """Seconds spent in each full collection while installed."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.long_chat", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--before", type=int, default=500, help="untimed turns first")
    parser.add_argument("--turns", type=int, default=100, help="timed turns")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)
    collections = FullCollections()
    times: list[float] = []
    with chat_ledger(args.backend, "long_chat", postgres_url=args.postgres_url) as ledger:
        session_id = ledger.create_session(CTX, title="long chat").id
        for i in range(args.before):
            ledger.chat(CTX, session_id, f"question {i}, a dozen words about something")
        gc.callbacks.append(collections)
        try:
            for i in range(args.turns):
                began = time.perf_counter()
                ledger.chat(CTX, session_id, f"timed question {i}, a dozen words or so")
                times.append(time.perf_counter() - began)
        finally:
            gc.callbacks.remove(collections)
        stored = stored_bytes(ledger)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"{args.backend}: {args.turns} turns after {args.before}: "
        f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {times[-1] * 1000:.1f} ms; {len(collections.pauses)} full collections, "
        f"{sum(collections.pauses) * 1000:.0f} ms in all"
    )
    for topic, (count, size) in sorted(stored.items()):
        print(f"  {topic}: {count} events, {size:,} bytes, {size // count:,} per event")


def stored_bytes(ledger: Any) -> dict[str, tuple[int, int]]:
    """Events and bytes of stored state, by topic, over the whole log."""
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    recorder = ledger.engine.recorder
    start = 1
    while notifications := recorder.select_notifications(start=start, limit=1000):
        for n in notifications:
            counts[n.topic] += 1
            sizes[n.topic] += len(n.state)
        start = notifications[-1].id + 1
    return {topic: (counts[topic], sizes[topic]) for topic in counts}


if __name__ == "__main__":
    main()
