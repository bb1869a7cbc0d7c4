"""Single-message append latency, chatledger and the raw floor measured side by side.

Each subject (the `Ledger`, a raw driver) already holds one session per length N.
A round appends one message to every session of every subject, in an order that
rotates from round to round, so each length and each subject is measured against
the same database sizes and under the same machine load: the ratios stay honest on
a shared, noisy machine even when the absolute figures drift.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Hashable, Sequence
from typing import Any, Protocol


class Subject(Protocol):
    """Something that appends one message to a session of a given length."""

    name: str
    sessions: dict[int, Hashable]
    """One session per length N, built to exactly N messages before measuring."""

    def next_message(self, session: Hashable) -> Any:
        """The next message for `session`, prepared outside the timed region."""
        ...

    def append(self, session: Hashable, message: Any) -> None:
        """Append one message, durably, in its own transaction."""
        ...


def interleaved(
    subjects: Sequence[Subject],
    rounds: int,
    *,
    budget: float | None = None,
    least: int = 5,
) -> dict[str, dict[int, list[float]]]:
    """Seconds per append, by subject name and length, over `rounds` rounds.

    With a `budget`, a subject stops appending at a length once its appends there have
    taken `budget` seconds in all (after at least `least` of them): a peer whose appends
    grow with N cannot hold up the others. Subjects may hold sessions of different lengths.
    """
    sizes = sorted({n for s in subjects for n in s.sessions})
    slots = [(subject, n) for n in sizes for subject in subjects if n in subject.sessions]
    samples: dict[str, dict[int, list[float]]] = {
        s.name: {n: [] for n in s.sessions} for s in subjects
    }
    spent: dict[tuple[str, int], float] = {}
    gc.collect()
    for r in range(rounds):
        shift = r % len(slots) if slots else 0
        for subject, n in slots[shift:] + slots[:shift]:
            key = (subject.name, n)
            over = budget is not None and spent.get(key, 0.0) >= budget
            if over and len(samples[subject.name][n]) >= least:
                continue
            session = subject.sessions[n]
            message = subject.next_message(session)
            start = time.perf_counter()
            subject.append(session, message)
            seconds = time.perf_counter() - start
            samples[subject.name][n].append(seconds)
            spent[key] = spent.get(key, 0.0) + seconds
    return samples
