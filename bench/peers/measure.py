"""The measures, each on one system: building sessions, reads, single appends (through
`bench.appends.interleaved`), ingest of whole conversations, and projection catch-up.

Only the system's calls are timed; turning ShareGPT turns into its message objects
(`System.prepare`) happens outside the clock.
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

from bench import sharegpt
from bench.latency import Latency, timed
from bench.peers.plan import PeerPlan
from bench.peers.system import NotSupportedError, System
from bench.sharegpt import Turn
from bench.storage import Payload

Progress = Callable[[str], None]


class Feed:
    """ShareGPT turns in file order, cycled, with the payload they carry counted."""

    def __init__(self) -> None:
        self.source: Iterator[Turn] = sharegpt.turns()
        self.payload = Payload()

    def take(self, count: int) -> list[Turn]:
        turns = list(itertools.islice(self.source, count))
        for turn in turns:
            self.payload.add(turn.text, 0)
        return turns


class Appender:
    """A system seen as a `bench.appends.Subject`: one prepared message per append."""

    def __init__(self, system: System, sessions: dict[int, Hashable], feed: Feed) -> None:
        self.name = system.name
        self.system = system
        self.sessions = sessions
        self.feed = feed

    def next_message(self, session: Hashable) -> Any:
        return self.system.prepare(self.feed.take(1))

    def append(self, session: Hashable, message: Any) -> None:
        self.system.append(session, message)


def warm_up(system: System, feed: Feed, count: int) -> None:
    session = system.create_session()
    for _ in range(count):
        system.append(session, system.prepare(feed.take(1)))
    system.end_session(session)


def build(system: System, feed: Feed, plan: PeerPlan) -> tuple[dict[int, Any], dict[str, Any]]:
    """One session per length, shortest first, `plan.batch` messages per write (one per
    write from N/2 to N/2 + 49).

    Lengths not reached within the system's build budget are left out and reported.
    """
    sessions: dict[int, Any] = {}
    report: dict[str, Any] = {}
    budget = plan.build_budget_of(system.name)
    spent = 0.0
    for n in sorted(set(plan.sizes) | set(plan.read_sizes) | set(plan.middle_sizes)):
        session = system.create_session()
        written = 0
        took = 0.0
        stops = sorted({n // 2, near_half(n), n})
        while written < n and spent + took < budget:
            # No write spans N/2 or N/2 + 49, so every system has a state at exactly each;
            # between the two, one message per write, as a conversation is written.
            stop = next(stop for stop in stops if stop > written)
            count = 1 if n // 2 <= written < near_half(n) else min(plan.batch, stop - written)
            prepared = system.prepare(feed.take(count))
            began = time.perf_counter()
            system.append(session, prepared)
            took += time.perf_counter() - began
            written += count
        spent += took
        if written < n:
            report[str(n)] = {"over_budget": True, "messages_written": written, "seconds": took}
            system.end_session(session)
            break
        sessions[n] = session
        report[str(n)] = {"seconds": round(took, 3), "messages_per_second": round(n / took, 1)}
    return sessions, report


def reads(
    opened: dict[str, tuple[System, dict[int, Any]]], plan: PeerPlan
) -> dict[str, dict[str, Any]]:
    """Every system's reads of its sessions, by system name: the whole history and a page at
    each read size, the state at N/2 at each middle size. The reads take turns, one call of
    each per round in an order that rotates, so they all see the same machine load; a
    read stops after `plan.read_budget` seconds (and at least `plan.least` calls)."""
    figures: dict[str, dict[str, Any]] = {name: {} for name in opened}
    calls: dict[tuple[str, str], Callable[[], None]] = {}
    for name, (system, sessions) in opened.items():
        for key, call in _read_calls(system, sessions, plan).items():
            try:
                call()  # warm, and find out what the system cannot do
            except NotSupportedError as why:
                figures[name][key] = {"not_supported": str(why)}
                continue
            calls[(name, key)] = call
    samples: dict[tuple[str, str], list[float]] = {case: [] for case in calls}
    gc.collect()
    for r in range(plan.read_repeats):
        active = [
            c for c in calls if len(samples[c]) < plan.least or sum(samples[c]) < plan.read_budget
        ]
        shift = r % len(active) if active else 0
        for case in active[shift:] + active[:shift]:
            samples[case].append(timed(calls[case]))
    for (name, key), seconds in samples.items():
        figures[name][key] = Latency.of(seconds).as_dict()
    return figures


def _read_calls(
    system: System, sessions: dict[int, Any], plan: PeerPlan
) -> dict[str, Callable[[], None]]:
    calls: dict[str, Callable[[], None]] = {}
    for n in plan.read_sizes:
        if n in sessions:
            s = sessions[n]
            calls[f"history_{n}"] = lambda s=s, n=n: _expect(system.history(s), n)
            page = min(plan.page, n)
            calls[f"page_{n}"] = lambda s=s, p=page: _expect(system.page(s, p), p)
    for n in plan.middle_sizes:
        if n in sessions:
            s, half = sessions[n], n // 2
            calls[f"state_at_half_{n}"] = lambda s=s, h=half: _expect(system.state_at(s, h), h)
            # Half way between two of chatledger's snapshots (every 100 versions), as a
            # version picked at random is on average; N/2 falls on one.
            near = near_half(n)
            calls[f"state_near_half_{n}"] = lambda s=s, h=near: _expect(system.state_at(s, h), h)
    return calls


def near_half(n: int) -> int:
    """Where `state_near_half_N` reads: N/2 + 49 messages (N - 1 for short sessions)."""
    return min(n // 2 + 49, n - 1)


def _expect(got: int, wanted: int) -> None:
    if got != wanted:
        raise AssertionError(f"read {got} messages, expected {wanted}")


def summaries(by_n: dict[int, list[float]]) -> dict[str, Any]:
    return {str(n): Latency.of(seconds).as_dict() for n, seconds in by_n.items() if seconds}


def ingest(
    systems: dict[str, System],
    dialogues: Sequence[Sequence[Turn]],
    *,
    per_message: bool,
    budget: float,
    payloads: dict[str, Payload],
    tick: Callable[[int], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """Conversations in file order, each in a new session of every system: one write per
    message (`per_message`) or one per conversation. The systems take turns conversation
    by conversation (in an order that rotates), so a change in the machine's load hits
    them alike. Each stops once its calls have taken `budget` seconds; then it is timed
    until its derived views have caught up."""
    names = list(systems)
    spent = dict.fromkeys(names, 0.0)
    done = {name: {"conversations": 0, "messages": 0, "writes": 0} for name in names}
    for index, dialogue in enumerate(dialogues):
        active = [n for n in names if spent[n] < budget]
        if not active:
            break
        shift = index % len(active)
        for name in active[shift:] + active[:shift]:
            spent[name] += _ingest_one(systems[name], dialogue, per_message)
            for turn in dialogue:
                payloads[name].add(turn.text, 0)
            counts = done[name]
            counts["conversations"] += 1
            counts["messages"] += len(dialogue)
            counts["writes"] += len(dialogue) if per_message else 1
        tick(1)
    figures: dict[str, dict[str, Any]] = {}
    for name in names:
        began = time.perf_counter()
        systems[name].caught_up()
        seconds = spent[name] + time.perf_counter() - began
        counts = done[name]
        figures[name] = {
            **counts,
            "complete": counts["conversations"] == len(dialogues),
            "seconds": round(seconds, 3),
            "messages_per_second": round(counts["messages"] / seconds, 1) if seconds else None,
        }
    return figures


def _ingest_one(system: System, dialogue: Sequence[Turn], per_message: bool) -> float:
    """Seconds to store one conversation in a new session (its preparation not counted)."""
    batches = [[t] for t in dialogue] if per_message else [list(dialogue)]
    prepared = [system.prepare(batch) for batch in batches]
    began = time.perf_counter()
    session = system.create_session()
    for item in prepared:
        system.append(session, item)
    system.end_session(session)
    return time.perf_counter() - began


def catch_up(views: Sequence[str], rebuild: Callable[[str], int]) -> dict[str, Any]:
    """Rebuild each view from empty, one after another; events read per second."""
    per_view: dict[str, Any] = {}
    for name in views:
        began = time.perf_counter()
        count = rebuild(name)
        seconds = time.perf_counter() - began
        per_view[name] = {
            "events": count,
            "seconds": round(seconds, 3),
            "events_per_second": round(count / seconds, 1),
        }
    total = sum(v["seconds"] for v in per_view.values())
    events = max((v["events"] for v in per_view.values()), default=0)
    return {
        "views": per_view,
        "events": events,
        "seconds_all_views": round(total, 3),
        "events_per_second_all_views": round(events / total, 1) if total else None,
    }
