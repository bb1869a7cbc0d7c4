"""One backend's run: every system on fresh databases, side by side.

1. Sessions of length N: every system opens its own fresh database, warms up and builds
   its sessions; on PostgreSQL each database is then analyzed, as autovacuum would in
   time (a freshly filled table has no statistics, and a page read then scans the whole
   session: docs/benchmarks.md, "History reads"). The systems' reads take turns
   (`measure.reads`), then their single appends, round by round
   (`bench.appends.interleaved`), so all see the same machine load. All close, and
   their bytes are measured.
2. Ingest, one message per write: every system on a fresh database, taking turns
   conversation by conversation in file order (`measure.ingest`); chatledger's views are
   then rebuilt from empty on its database (catch-up); all close, and their bytes are
   measured (short sessions).
3. Ingest, one write per conversation (the bulk path), on fresh databases again.
4. Chat turns (`bench.peers.turns`): each chat system on a fresh database, and the direct
   call, against the same fake provider, taking turns round by round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from rich.console import Console
from rich.progress import Progress as Bar

from bench.appends import interleaved
from bench.databases import analyze, fresh
from bench.fake_openai import FakeOpenAI
from bench.peers import measure
from bench.peers.measure import Appender, Feed, Progress
from bench.peers.plan import PeerPlan
from bench.peers.system import ChatFactory, Factory, System
from bench.peers.turns import chat_turns
from bench.sharegpt import Turn
from bench.storage import Payload, Storage


def run(
    backend: str,
    plan: PeerPlan,
    systems: dict[str, Factory],
    dialogues: Sequence[Sequence[Turn]],
    *,
    postgres_url: str,
    progress: Progress,
    chat: dict[str, ChatFactory] | None = None,
    fake: FakeOpenAI | None = None,
) -> dict[str, Any]:
    """Every system's figures on `backend`, by system name; with `chat` systems and the
    `fake` provider, their chat turns too."""
    results: dict[str, Any] = {name: {} for name in systems}
    _sessions_of_length_n(backend, plan, systems, results, postgres_url, progress)
    for per_message, key in ((True, "ingest"), (False, "bulk_ingest")):
        limit = plan.ingest_conversations if per_message else plan.bulk_conversations
        chosen = dialogues[:limit] if limit is not None else dialogues
        budget = plan.ingest_budget if per_message else plan.bulk_budget
        how = "one message per write" if per_message else "one write per conversation"
        progress(f"{backend}: ingest of up to {len(chosen):,} conversations, {how}")
        payloads = {name: Payload() for name in systems}
        with ExitStack() as databases:
            opened: dict[str, System] = {}
            empty: dict[str, Storage] = {}
            with ExitStack() as stack:
                for name, factory in systems.items():
                    db = f"{name}_{key}".replace("-", "_")
                    target = databases.enter_context(fresh(backend, db, postgres_url=postgres_url))
                    opened[name] = factory(target)
                    stack.callback(opened[name].close)
                    empty[name] = opened[name].storage()
                figures = _ingest(opened, chosen, per_message, budget, payloads)
                if per_message and "chatledger" in opened:
                    progress(f"{backend}: chatledger: rebuilding its views from empty")
                    ledger: Any = opened["chatledger"]
                    results["chatledger"]["catch_up"] = measure.catch_up(
                        ledger.view_names(), ledger.rebuild_view
                    )
            for name, system in opened.items():
                results[name][key] = figures[name]
                if per_message:
                    stored = system.storage().since(empty[name])
                    results[name]["storage_short"] = stored.report(payloads[name])
    if chat and fake is not None:
        texts = [turn.text for dialogue in dialogues for turn in dialogue if turn.role == "user"]
        figures = chat_turns(
            backend, plan, chat, texts, postgres_url=postgres_url, fake=fake, progress=progress
        )
        for name, chat_figures in figures.items():
            results.setdefault(name, {})["chat"] = chat_figures
    return results


def _sessions_of_length_n(
    backend: str,
    plan: PeerPlan,
    systems: dict[str, Factory],
    results: dict[str, Any],
    postgres_url: str,
    progress: Progress,
) -> None:
    opened: dict[str, tuple[System, Feed, dict[int, Any]]] = {}
    empty: dict[str, Storage] = {}
    with ExitStack() as databases:
        with ExitStack() as stack:
            for name, factory in systems.items():
                target = databases.enter_context(
                    fresh(backend, name.replace("-", "_"), postgres_url=postgres_url)
                )
                system = factory(target)
                stack.callback(system.close)
                empty[name] = system.storage()
                feed = Feed()
                progress(f"{backend}: {name}: building sessions of {_sizes(plan)} messages")
                measure.warm_up(system, feed, plan.warmup)
                sessions, results[name]["build"] = measure.build(system, feed, plan)
                analyze(target)
                stack.callback(_ending(system, sessions))
                results[name]["label"] = system.label
                opened[name] = (system, feed, sessions)
            progress(f"{backend}: reading, all systems interleaved")
            figures = measure.reads({k: (s, n) for k, (s, _, n) in opened.items()}, plan)
            for name in opened:
                results[name]["reads"] = figures[name]
            _appends(backend, plan, opened, results, progress)
        for name, (system, feed, _) in opened.items():
            stored = system.storage().since(empty[name])
            results[name]["storage_long"] = stored.report(feed.payload)


def _appends(
    backend: str,
    plan: PeerPlan,
    opened: dict[str, tuple[System, Feed, dict[int, Any]]],
    results: dict[str, Any],
    progress: Progress,
) -> None:
    """Single appends, interleaved."""
    progress(f"{backend}: {plan.appends} rounds of single appends, all systems interleaved")
    appenders = [
        Appender(system, {n: sessions[n] for n in plan.sizes if n in sessions}, feed)
        for system, feed, sessions in opened.values()
    ]
    samples = interleaved(appenders, plan.appends, budget=plan.append_budget, least=plan.least)
    for name in opened:
        results[name]["append"] = measure.summaries(samples[name])


def _ending(system: System, sessions: dict[int, Any]) -> Callable[[], None]:
    def end() -> None:
        for session in sessions.values():
            system.end_session(session)

    return end


def _ingest(
    systems: dict[str, System],
    dialogues: Sequence[Sequence[Turn]],
    per_message: bool,
    budget: float,
    payloads: dict[str, Payload],
) -> dict[str, dict[str, Any]]:
    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("conversations", total=len(dialogues))
        return measure.ingest(
            systems,
            dialogues,
            per_message=per_message,
            budget=budget,
            payloads=payloads,
            tick=lambda count: bar.advance(task, count),
        )


def _sizes(plan: PeerPlan) -> str:
    sizes = sorted(set(plan.sizes) | set(plan.read_sizes) | set(plan.middle_sizes))
    return ", ".join(f"{n:,}" for n in sizes)
