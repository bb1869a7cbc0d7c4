"""The chat-turn phase: one turn through each system, beside a direct call to the provider.

Every chat system (`bench.peers.system.ChatSystem`) runs on its own fresh database, and
all talk to the same fake OpenAI-compatible server (`bench.fake_openai`: a process of its
own on 127.0.0.1 that answers at once, always with the same 50 words), so every
millisecond between a system and the direct call is the system's own. The users' messages
are ShareGPT's, in file order, and every system gets the same ones in the same order: all
conversations of one history length hold the same messages, and every request carries
the same history.

1. Warm-up: `plan.chat_warmup` turns per system on a conversation of its own.
2. Histories: per length H of `plan.chat_histories`, one conversation per system that has
   had H turns (2·H messages), built one system after another (not timed; the seconds
   it took are reported).
3. Timed turns: `plan.chat_turns` rounds; a round makes one turn on every conversation of
   every system, in an order that rotates (`bench.appends.interleaved`), so all see the
   same machine load. A series stops after `plan.chat_budget` seconds (and at least
   `plan.least` turns). Each turn adds 2 messages: over a series the history grows from
   2·H to 2·(H + turns - 1) messages.

The server notes, per request, when it had the body, when it wrote its last byte and how
many messages the request carried: a turn splits into before the provider, the provider
and after it, and the message counts show that every system sent the same conversation.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from bench.appends import interleaved
from bench.databases import fresh
from bench.fake_openai import REPLY, FakeOpenAI
from bench.latency import Latency
from bench.peers.measure import Progress
from bench.peers.plan import PeerPlan
from bench.peers.system import ChatFactory, ChatSystem


@dataclass(eq=False)
class Conversation:
    """A system's conversation, the history length it was built for, the turns it has had."""

    handle: Any
    history: int
    turns: int = 0


@dataclass(frozen=True)
class Call:
    """One timed turn as the caller saw it (perf_counter seconds)."""

    system: str
    history: int
    start: float
    end: float


def take_turns(
    system: ChatSystem, conversation: Conversation, count: int, texts: Sequence[str]
) -> None:
    """`count` turns on `conversation`, each with the next user message of `texts`."""
    for _ in range(count):
        _turn(system, conversation, texts)


def _turn(system: ChatSystem, conversation: Conversation, texts: Sequence[str]) -> None:
    reply = system.turn(conversation.handle, texts[conversation.turns % len(texts)])
    conversation.turns += 1
    if reply != REPLY:
        raise AssertionError(f"{system.name}: the reply came back as {reply[:80]!r}")


class Turner:
    """A chat system seen as a `bench.appends.Subject`: one chat turn per append."""

    def __init__(
        self,
        system: ChatSystem,
        sessions: dict[int, Conversation],
        texts: Sequence[str],
        journal: list[Call],
    ) -> None:
        self.name = system.name
        self.system = system
        self.sessions: dict[int, Any] = dict(sessions)
        self.texts = texts
        self.journal = journal

    def next_message(self, session: Conversation) -> None:
        return None  # the text is the conversation's next one: `_turn` picks it

    def append(self, session: Conversation, message: None) -> None:
        start = time.perf_counter()
        _turn(self.system, session, self.texts)
        self.journal.append(Call(self.name, session.history, start, time.perf_counter()))


def chat_turns(
    backend: str,
    plan: PeerPlan,
    systems: dict[str, ChatFactory],
    texts: Sequence[str],
    *,
    postgres_url: str,
    fake: FakeOpenAI,
    progress: Progress,
) -> dict[str, dict[str, Any]]:
    """Every chat system's figures on `backend`, by system name."""
    figures: dict[str, dict[str, Any]] = {}
    journal: list[Call] = []
    turners: list[Turner] = []
    with ExitStack() as databases, ExitStack() as opened:
        for name, factory in systems.items():
            db = f"{name}_chat".replace("-", "_")
            target = databases.enter_context(fresh(backend, db, postgres_url=postgres_url))
            system = factory(target, fake.openai_url)
            opened.callback(system.close)
            histories = ", ".join(f"{h:,}" for h in plan.chat_histories)
            progress(f"{backend}: {name}: chat conversations of {histories} turns")
            scratch = Conversation(system.create_conversation(), history=0)
            take_turns(system, scratch, plan.chat_warmup, texts)
            sessions: dict[int, Conversation] = {}
            built: dict[str, float] = {}
            for h in plan.chat_histories:
                sessions[h] = Conversation(system.create_conversation(), history=h)
                began = time.perf_counter()
                take_turns(system, sessions[h], h, texts)
                built[str(h)] = round(time.perf_counter() - began, 3)
            figures[name] = {"label": system.label, "build_seconds": built}
            turners.append(Turner(system, sessions, texts, journal))
        progress(f"{backend}: {plan.chat_turns} rounds of chat turns, all systems interleaved")
        fake.timings()  # forget the warm-ups' and the builds' requests
        samples = interleaved(turners, plan.chat_turns, budget=plan.chat_budget, least=plan.least)
        server = fake.timings()
    if len(server) != len(journal):  # a retried request: the split by phase would be wrong
        raise RuntimeError(f"{len(journal)} chat turns but {len(server)} provider requests")
    for name, by_history in samples.items():
        calls = {
            h: [
                (c, t)
                for c, t in zip(journal, server, strict=True)
                if (c.system, c.history) == (name, h)
            ]
            for h in by_history
        }
        figures[name]["turn"] = {str(h): Latency.of(s).as_dict() for h, s in by_history.items()}
        figures[name]["phases"] = {str(h): _phases(pairs) for h, pairs in calls.items()}
        figures[name]["messages_sent"] = {
            str(h): [pairs[0][1]["messages"], pairs[-1][1]["messages"]]
            for h, pairs in calls.items()
        }
    return figures


def _phases(pairs: list[tuple[Call, dict[str, Any]]]) -> dict[str, float]:
    """Median ms before the provider had the request, at the provider, after its last byte."""
    before = [t["received"] - c.start for c, t in pairs]
    provider = [t["end"] - t["received"] for _, t in pairs]
    after = [c.end - t["end"] for c, t in pairs]
    return {
        "before_provider_median_ms": round(statistics.median(before) * 1000, 3),
        "provider_median_ms": round(statistics.median(provider) * 1000, 3),
        "after_provider_median_ms": round(statistics.median(after) * 1000, 3),
    }
