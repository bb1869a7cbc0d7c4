"""A picture of single-append latency: one box per session length, chatledger beside the floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_appends(raw: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(raw), figsize=(6 * len(raw), 4.5), squeeze=False)
    for ax, (backend, runs) in zip(axes[0], raw.items(), strict=True):
        sizes = list(runs["chatledger"])
        positions = range(len(sizes))
        for offset, (name, color) in enumerate((("chatledger", "C0"), ("floor", "C1"))):
            data = [runs[name][n] for n in sizes]
            ax.boxplot(
                data,
                positions=[p + (offset - 0.5) * 0.35 for p in positions],
                widths=0.3,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": color, "alpha": 0.5},
                medianprops={"color": "black"},
            )
            ax.plot([], [], color=color, linewidth=8, alpha=0.5, label=name)
        ax.set_xticks(list(positions), [f"{int(n):,}" for n in sizes])
        ax.set_xlabel("messages already in the session")
        ax.set_ylabel("ms per single-message append")
        ax.set_title(backend)
        ax.set_ylim(bottom=0)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
