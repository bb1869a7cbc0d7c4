"""What a run measures, and how much: the quick plan (`make bench`) and the full one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Plan:
    name: str
    sizes: tuple[int, ...]
    """Session lengths (existing messages) at which single appends are measured."""
    appends: int
    """Single-message appends measured per session length."""
    batch: int = 100
    """Messages per `append_messages` call while a session is built up to its length."""
    warmup: int = 20
    """Unmeasured appends to a scratch session before anything is timed."""
    read_sizes: tuple[int, ...] = (1_000,)
    """Session lengths at which history pages and full loads are read."""
    version_sizes: tuple[int, ...] = (1_000, 10_000)
    """Session lengths at which the state at version N/2 is read."""
    read_repeats: int = 30
    read_budget: float = 5.0
    """Seconds after which a slow read stops repeating (at least 5 samples are taken)."""
    chat_turns: int = 200
    """Chat turns per subject (direct calls, `achat`, `astream`, HTTP), in one conversation each."""
    chat_first_token_turns: int = 50
    """Streamed turns per subject with a delay before each chunk: time to the first token."""
    chat_chunk_delay_ms: float = 5.0
    """The fake provider's wait before each of its 10 content chunks, in that measurement."""
    chat_warmup: int = 10
    """Unmeasured chat turns per subject, on conversations of their own."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


QUICK = Plan(name="quick", sizes=(10, 100, 1_000, 10_000), appends=200, read_sizes=(1_000, 10_000))
FULL = Plan(
    name="full",
    sizes=(10, 100, 1_000, 10_000, 100_000),
    appends=500,
    read_sizes=(1_000, 10_000),
    version_sizes=(1_000, 10_000, 100_000),
    read_repeats=100,
    read_budget=20.0,
    chat_turns=1_000,
    chat_first_token_turns=200,
)
