"""The figures of a results file as Markdown tables, for docs/benchmarks.md.

`python -m bench.markdown [bench/results/latest.json]` prints the tables; the prose
around them in the docs is written by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import CHAT_PATHS, RESULTS


def tables(results: dict[str, Any]) -> str:
    backends = {k: v for k, v in results["backends"].items() if "chatledger" in v}
    out = _append_tables(results, backends) if backends else []
    if "chat_turns" in results:
        out += chat_tables(results["chat_turns"])
    return "\n".join(out) + "\n"


def _append_tables(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    summary = results["summary"]
    out = ["#### Append one message (ms)", ""]
    out += _row("backend", "N", "median", "p95", "p99", "floor median", "floor p95", "× floor")
    out += _row(*["---"] * 8)
    for backend, runs in backends.items():
        floor = runs["floor"]["append"]
        for n, a in runs["chatledger"]["append"].items():
            f = floor[n]
            out += _row(
                backend,
                f"{int(n):,}",
                f"{a['median_ms']:.2f}",
                f"{a['p95_ms']:.2f}",
                f"{a['p99_ms']:.2f}",
                f"{f['median_ms']:.2f}",
                f"{f['p95_ms']:.2f}",
                f"{summary[backend]['vs_floor_median'][n]:.1f}",
            )
    out += ["", "#### Flatness: largest N ÷ N=10", ""]
    out += _row("backend", "chatledger median", "chatledger p95", "floor median")
    out += _row(*["---"] * 4)
    for backend in backends:
        s = summary[backend]
        out += _row(
            backend,
            f"{s['append_median_flatness']:.2f}",
            f"{s['append_p95_flatness']:.2f}",
            f"{s['floor_median_flatness']:.2f}",
        )
    out += ["", "#### History reads (ms)", ""]
    out += _row("backend", "N", "read", "median", "p95")
    out += _row(*["---"] * 5)
    for backend, runs in backends.items():
        for key, label in (("reads", ""), ("reads_after_analyze", ", after ANALYZE")):
            for n, reads in runs["chatledger"].get(key, {}).items():
                for read, r in reads.items():
                    out += _row(
                        backend,
                        f"{int(n):,}",
                        f"`{read}`{label}",
                        f"{r['median_ms']:.2f}",
                        f"{r['p95_ms']:.2f}",
                    )
    out += ["", "#### State at version N/2 (ms)", ""]
    out += _row("backend", "N", "version", "get_state median", "p95", "engine only median")
    out += _row(*["---"] * 6)
    for backend, runs in backends.items():
        for n, v in runs["chatledger"]["state_at_half"].items():
            out += _row(
                backend,
                f"{int(n):,}",
                f"{v['version']:,}",
                f"{v['ledger_get_state']['median_ms']:.2f}",
                f"{v['ledger_get_state']['p95_ms']:.2f}",
                f"{v['engine_get_state']['median_ms']:.2f}",
            )
    out += ["", "#### Building sessions: 100 messages per `append_messages` call", ""]
    out += _row("backend", "N", "ms per call", "messages/s")
    out += _row(*["---"] * 4)
    for backend, runs in backends.items():
        for n, b in runs["chatledger"]["build"].items():
            if int(n) >= 1000:
                out += _row(
                    backend,
                    f"{int(n):,}",
                    f"{b['ms_per_call']:.1f}",
                    f"{b['messages_per_second']:,.0f}",
                )
    out += ["", "#### Bytes stored per message", ""]
    out += _row(
        "backend", "chatledger", "floor", "× floor", "text", "message JSON", "largest parts"
    )
    out += _row(*["---"] * 7)
    for backend, runs in backends.items():
        s, f = runs["chatledger"]["storage"], runs["floor"]["storage"]
        parts = sorted(s["tables_bytes_per_message"].items(), key=lambda kv: -kv[1])[:3]
        out += _row(
            backend,
            f"{s['bytes_per_message']:,.0f}",
            f"{f['bytes_per_message']:,.0f}",
            f"{s['bytes_per_message'] / f['bytes_per_message']:.1f}",
            f"{s['payload_text_bytes_per_message']:,.0f}",
            f"{s['payload_json_bytes_per_message']:,.0f}",
            ", ".join(f"`{k}` {v:,.0f}" for k, v in parts),
        )
    return [*out, ""]


def chat_tables(chat: dict[str, Any]) -> list[str]:
    """The chat suite: turns, growth with the history, first token."""
    backends = {k: v for k, v in chat["backends"].items() if "turn" in v}
    if not backends:
        return []
    out = ["#### Chat turn (ms), no provider delay", ""]
    out += _row(
        "backend",
        "path",
        "p50",
        "p99",
        "overhead p50",
        "× p50",
        "overhead p99",
        "× p99",
        "before provider",
        "after provider",
        "TCP connections",
    )
    out += _row(*["---"] * 11)
    for backend, run in backends.items():
        for name, label in CHAT_PATHS.items():
            latency = run["turn"].get(name)
            if latency is None or "skipped" in latency:
                continue
            over, phases = run["overhead"].get(name), run["phases"][name]
            out += _row(
                backend,
                label,
                f"{latency['median_ms']:.2f}",
                f"{latency['p99_ms']:.2f}",
                f"{over['p50_ms']:+.2f}" if over else "",
                f"{over['p50_ratio']:.2f}" if over else "",
                f"{over['p99_ms']:+.2f}" if over else "",
                f"{over['p99_ratio']:.2f}" if over else "",
                f"{phases['before_provider_median_ms']:.2f}",
                f"{phases['after_provider_median_ms']:.2f}",
                f"{run['tcp_connections'][name]:,}",
            )
    g = next(iter(backends.values()))["growth"]
    out += ["", "#### Chat turn as the history grows (median ms)", ""]
    out += _row(
        "backend",
        "path",
        f"turns {g['first_turns'][0]}–{g['first_turns'][1]}",
        f"turns {g['last_turns'][0]}–{g['last_turns'][1]}",
        "µs per history message",
    )
    out += _row(*["---"] * 5)
    for backend, run in backends.items():
        for name, label in CHAT_PATHS.items():
            if name in run["growth"]:
                row = run["growth"][name]
                out += _row(
                    backend,
                    label,
                    f"{row['first_median_ms']:.2f}",
                    f"{row['last_median_ms']:.2f}",
                    f"{row['us_per_history_message']:.1f}",
                )
    delay = next(iter(backends.values()))["first_token"]["chunk_delay_ms"]
    out += ["", f"#### Time to first token (ms from the call; {delay:g} ms before each chunk)", ""]
    out += _row(
        "backend",
        "path",
        "first content p50",
        "p99",
        "provider's first token p50",
        "p99",
        "lag p50",
        "p99",
        "whole turn p50",
        "p99",
    )
    out += _row(*["---"] * 10)
    for backend, run in backends.items():
        for name in ("direct_stream", "astream"):
            row = run["first_token"][name]
            out += _row(
                backend,
                CHAT_PATHS[name],
                *(
                    f"{row[key][q]:.2f}"
                    for key in (
                        "first_content",
                        "provider_first_token",
                        "first_content_after_provider",
                        "turn",
                    )
                    for q in ("median_ms", "p99_ms")
                ),
            )
    return [*out, ""]


def _row(*cells: str) -> list[str]:
    return ["| " + " | ".join(cells) + " |"]


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    print(tables(json.loads(path.read_text())), end="")
