"""Latency samples and their summary: median, p95 and friends, in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Latency:
    """A summary of wall-clock samples (milliseconds)."""

    samples: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = sorted(s * 1000 for s in seconds)
        return cls(
            samples=len(ms),
            median_ms=statistics.median(ms),
            p95_ms=percentile(ms, 95),
            p99_ms=percentile(ms, 99),
            mean_ms=statistics.fmean(ms),
            min_ms=ms[0],
            max_ms=ms[-1],
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default) on sorted data."""
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(call: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def repeat(
    call: Callable[[], Any], times: int, *, warmup: int = 1, budget: float = 20.0, least: int = 5
) -> Latency:
    """Run `call` `warmup` times unmeasured, then up to `times` times measured.

    Slow calls stop early once `budget` seconds are spent, after at least `least` samples.
    """
    for _ in range(warmup):
        call()
    samples: list[float] = []
    while len(samples) < times and (len(samples) < least or sum(samples) < budget):
        samples.append(timed(call))
    return Latency.of(samples)
