"""How much the peer suite measures, and the time budgets that keep slow peers bounded.

A budget caps one system's work on one measure; what was cut is reported, never hidden:
a session not built in time is "> budget" (no appends or reads at that N), an append
series stops after `append_budget` seconds (with at least `least` samples), as does a
series of chat turns after `chat_budget`, and an ingest counts the conversations it got
through (its rate is over those).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

UNCAPPED = ("chatledger", "raw")
"""Systems whose sessions are always built in full, whatever the build budget."""


@dataclass(frozen=True)
class PeerPlan:
    name: str
    sizes: tuple[int, ...] = (10, 100, 1_000, 10_000)
    """Session lengths at which single appends are timed."""
    batch: int = 100
    """Messages per write while a session is built up to its length (every system)."""
    warmup: int = 20
    """Unmeasured single appends to a scratch session, per system."""
    build_budget: float = 20.0
    """Seconds a peer may spend building its sessions (shortest first). chatledger and the
    raw floor always build every length: the targets are about them."""
    appends: int = 100
    """Rounds of single appends: one per session and system per round."""
    append_budget: float = 2.0
    """Seconds one system may spend appending at one N."""
    least: int = 5
    """Samples taken before a budget may stop a series."""
    read_sizes: tuple[int, ...] = (1_000, 10_000)
    """Session lengths at which the whole history and a page are read."""
    page: int = 50
    middle_sizes: tuple[int, ...] = (1_000, 10_000)
    """Session lengths at whose middle (N/2 messages) the state is read."""
    read_repeats: int = 15
    read_budget: float = 1.0
    """Seconds after which a read stops repeating (after `least` samples)."""
    ingest_conversations: int | None = 2_000
    """Conversations ingested one message per write (None: every one)."""
    ingest_budget: float = 6.0
    bulk_conversations: int | None = 2_000
    """Conversations ingested one write per conversation (None: every one)."""
    bulk_budget: float = 2.0
    chat_histories: tuple[int, ...] = (10, 100)
    """Chat turns a conversation has had before its turns are timed (each turn adds the
    user's message and the reply: 2 messages)."""
    chat_turns: int = 30
    """Rounds of timed chat turns: one turn per conversation and system per round."""
    chat_budget: float = 5.0
    """Seconds one system may spend on timed turns at one history length."""
    chat_warmup: int = 5
    """Unmeasured chat turns per system, on a conversation of their own."""

    def build_budget_of(self, system: str) -> float:
        return float("inf") if system in UNCAPPED else self.build_budget

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


QUICK = PeerPlan(name="quick")
FULL = PeerPlan(
    name="full",
    build_budget=300.0,
    appends=300,
    append_budget=30.0,
    read_repeats=50,
    read_budget=10.0,
    ingest_conversations=None,
    ingest_budget=1_200.0,
    bulk_conversations=None,
    bulk_budget=300.0,
    chat_histories=(10, 100, 500),
    chat_turns=100,
    chat_budget=60.0,
)
