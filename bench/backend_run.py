"""One backend's run: chatledger and the raw floor on two fresh databases, side by side.

Both are open at once: chatledger is built and read first (`LedgerSubject.prepare`),
the floor built next, then their single appends are interleaved (`bench.appends`).
Both are closed before their bytes on disk are measured.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from bench.appends import interleaved
from bench.chatledger_runs import LedgerSubject, Progress
from bench.databases import fresh
from bench.floor import FloorSubject
from bench.latency import Latency
from bench.plan import Plan
from bench.storage import measure


def run(
    backend: str, plan: Plan, *, postgres_url: str, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures of both subjects, and every append sample (ms) for the raw file."""
    with ExitStack() as stack:
        ledger_db = stack.enter_context(fresh(backend, "chatledger", postgres_url=postgres_url))
        floor_db = stack.enter_context(fresh(backend, "floor", postgres_url=postgres_url))
        ledger = LedgerSubject(ledger_db, plan)
        with ExitStack() as open_subjects:
            open_subjects.callback(ledger.close)
            chatledger = ledger.prepare(progress)
            floor = FloorSubject(floor_db, plan)
            open_subjects.callback(floor.close)
            floor.prepare()
            progress(
                f"{backend}: {plan.appends} rounds of single appends"
                f" ({len(plan.sizes)} lengths x chatledger and floor)"
            )
            samples = interleaved([ledger, floor], plan.appends)
        chatledger["storage"] = measure(ledger_db).report(ledger.messages.payload)
        floor_storage = measure(floor_db).report(floor.payload)
        floor_storage.pop("payload_json_bytes_per_message")
    results = {
        "chatledger": {"append": _summaries(samples["chatledger"]), **chatledger},
        "floor": {"append": _summaries(samples["floor"]), "storage": floor_storage},
    }
    raw = {
        name: {str(n): [round(s * 1000, 4) for s in seconds] for n, seconds in by_n.items()}
        for name, by_n in samples.items()
    }
    return results, raw


def _summaries(by_n: dict[int, list[float]]) -> dict[str, Any]:
    return {str(n): Latency.of(seconds).as_dict() for n, seconds in by_n.items()}
