"""Append latency against N, one line per system and one panel per backend: the median,
with a bar from the fastest append to p95 (matplotlib, Agg backend, log axes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_append_latency(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = {k: v for k, v in results["backends"].items() if "skipped" not in v}
    fig, axes = plt.subplots(
        1, len(backends), figsize=(6.5 * len(backends), 4.8), squeeze=False, sharey=True
    )
    for ax, (backend, systems) in zip(axes[0], backends.items(), strict=True):
        for s in systems.values():
            sizes = sorted(s["append"], key=int)
            if not sizes:
                continue
            x = [int(n) for n in sizes]
            median = [s["append"][n]["median_ms"] for n in sizes]
            low = [m - s["append"][n]["min_ms"] for n, m in zip(sizes, median, strict=True)]
            high = [s["append"][n]["p95_ms"] - m for n, m in zip(sizes, median, strict=True)]
            ax.errorbar(x, median, yerr=[low, high], marker="o", capsize=3, label=s["label"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("messages already in the session (N)")
        ax.set_ylabel("ms per single-message append")
        ax.set_title({"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(backend, backend))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Append latency against N ({results['plan']['name']} plan)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
