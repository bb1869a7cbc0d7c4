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


def interleaved(subjects: Sequence[Subject], rounds: int) -> dict[str, dict[int, list[float]]]:
    """Seconds per append, by subject name and length, over `rounds` rounds."""
    slots = [(subject, n) for n in subjects[0].sessions for subject in subjects]
    samples: dict[str, dict[int, list[float]]] = {
        s.name: {n: [] for n in s.sessions} for s in subjects
    }
    gc.collect()
    for r in range(rounds):
        shift = r % len(slots)
        for subject, n in slots[shift:] + slots[:shift]:
            session = subject.sessions[n]
            message = subject.next_message(session)
            start = time.perf_counter()
            subject.append(session, message)
            samples[subject.name][n].append(time.perf_counter() - start)
    return samples
