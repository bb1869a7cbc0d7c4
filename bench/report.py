"""The figures of a run: derived ratios, JSON on disk, and tables on the terminal (rich)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Ratios a reader asks for first: vs the raw floor, and largest N vs N=10."""
    summary: dict[str, Any] = {}
    for backend, runs in results["backends"].items():
        ledger, floor = runs.get("chatledger"), runs.get("floor")
        if not ledger:
            continue
        appends = ledger["append"]
        sizes = sorted(appends, key=int)
        entry: dict[str, Any] = {
            "append_median_flatness": _ratio(appends[sizes[-1]], appends[sizes[0]], "median_ms"),
            "append_p95_flatness": _ratio(appends[sizes[-1]], appends[sizes[0]], "p95_ms"),
            "flatness_between": [int(sizes[0]), int(sizes[-1])],
        }
        if floor:
            entry["vs_floor_median"] = {
                n: _ratio(appends[n], floor["append"][n], "median_ms") for n in sizes
            }
            entry["vs_floor_p95"] = {
                n: _ratio(appends[n], floor["append"][n], "p95_ms") for n in sizes
            }
            entry["floor_median_flatness"] = _ratio(
                floor["append"][sizes[-1]], floor["append"][sizes[0]], "median_ms"
            )
            entry["storage_vs_floor"] = round(
                ledger["storage"]["bytes_per_message"] / floor["storage"]["bytes_per_message"], 2
            )
        summary[backend] = entry
    return summary


def _ratio(a: dict[str, float], b: dict[str, float], key: str) -> float:
    return round(a[key] / b[key], 2)


def save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def show(results: dict[str, Any], console: Console) -> None:
    backends = {k: v for k, v in results["backends"].items() if "chatledger" in v}
    for name, why in results["backends"].items():
        if "skipped" in why:
            console.print(f"[yellow]{name} skipped:[/] {why['skipped']}")
    if backends:
        _show_appends(results, backends, console)
    if "chat_turns" in results:
        show_chat(results["chat_turns"], console)


def _show_appends(results: dict[str, Any], backends: dict[str, Any], console: Console) -> None:
    console.print(_appends(backends, results["summary"]))
    console.print(_reads(backends))
    console.print(_versions(backends))
    console.print(_builds(backends))
    console.print(_storage(backends))
    console.print(_tables(backends))


def _ms(latency: dict[str, float]) -> tuple[str, str]:
    return f"{latency['median_ms']:.2f}", f"{latency['p95_ms']:.2f}"


def _appends(backends: dict[str, Any], summary: dict[str, Any]) -> Table:
    table = Table(
        title="Append one message (ms) with N messages already in the session: chatledger,"
        " the raw-driver floor; ratio = largest N ÷ N=10"
    )
    columns = ("backend", "N", "median", "p95", "p99", "floor med.", "floor p95", "× floor")
    for column in columns:
        table.add_column(column, justify="right" if column != "backend" else "left")
    for backend, runs in backends.items():
        floor = runs.get("floor", {}).get("append", {})
        for n, latency in runs["chatledger"]["append"].items():
            raw = floor.get(n)
            table.add_row(
                backend,
                f"{int(n):,}",
                *_ms(latency),
                f"{latency['p99_ms']:.2f}",
                *(_ms(raw) if raw else ("–", "–")),
                f"{summary[backend]['vs_floor_median'][n]:.1f}" if raw else "–",
            )
        flat = summary[backend]
        table.add_row(
            backend,
            "ratio",
            f"{flat['append_median_flatness']:.2f}",
            f"{flat['append_p95_flatness']:.2f}",
            "",
            f"{flat.get('floor_median_flatness', 0):.2f}",
            "",
            "",
            style="italic",
        )
    return table


def _reads(backends: dict[str, Any]) -> Table:
    table = Table(title="History reads (ms)")
    for column in ("backend", "N", "read", "median", "p95"):
        table.add_column(column, justify="right" if column in ("median", "p95", "N") else "left")
    for backend, runs in backends.items():
        for key, label in (("reads", ""), ("reads_after_analyze", " (analyzed)")):
            for n, reads in runs["chatledger"].get(key, {}).items():
                for read, latency in reads.items():
                    table.add_row(backend, f"{int(n):,}", read + label, *_ms(latency))
    return table


def _versions(backends: dict[str, Any]) -> Table:
    table = Table(title="State at version N/2 (ms): with its history, and the engine's part")
    for column in ("backend", "N", "version", "get_state median", "p95", "engine median", "p95"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend, runs in backends.items():
        for n, row in runs["chatledger"]["state_at_half"].items():
            table.add_row(
                backend,
                f"{int(n):,}",
                f"{row['version']:,}",
                *_ms(row["ledger_get_state"]),
                *_ms(row["engine_get_state"]),
            )
    return table


def _builds(backends: dict[str, Any]) -> Table:
    table = Table(title="Building sessions: append_messages with 100 messages per call")
    for column in ("backend", "N", "calls", "ms per call", "messages/s"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend, runs in backends.items():
        for n, row in runs["chatledger"]["build"].items():
            table.add_row(
                backend,
                f"{int(n):,}",
                str(row["calls"]),
                f"{row['ms_per_call']:.1f}",
                f"{row['messages_per_second']:,.0f}",
            )
    return table


def _storage(backends: dict[str, Any]) -> Table:
    table = Table(title="Bytes stored per message")
    for column in ("backend", "messages", "chatledger", "floor", "× floor", "text", "message JSON"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend, runs in backends.items():
        s = runs["chatledger"]["storage"]
        floor = runs.get("floor", {}).get("storage")
        table.add_row(
            backend,
            f"{s['messages']:,}",
            f"{s['bytes_per_message']:,.0f}",
            f"{floor['bytes_per_message']:,.0f}" if floor else "–",
            f"{s['bytes_per_message'] / floor['bytes_per_message']:.1f}" if floor else "–",
            f"{s['payload_text_bytes_per_message']:,.0f}",
            f"{s['payload_json_bytes_per_message']:,.0f}",
        )
    return table


def _tables(backends: dict[str, Any]) -> Table:
    table = Table(title="Where chatledger's bytes go (per message; tables and indexes)")
    for column in ("backend", "table or index", "bytes"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for backend, runs in backends.items():
        tables = runs["chatledger"]["storage"]["tables_bytes_per_message"]
        for name, size in sorted(tables.items(), key=lambda kv: -kv[1]):
            if size >= 1:
                table.add_row(backend, name, f"{size:,.0f}")
    return table


# The chat suite (`bench.chat_turns`) ---------------------------------------------------

CHAT_PATHS = {
    "direct_json": "direct JSON",
    "direct_stream": "direct SSE",
    "direct_stream_stop": "direct SSE, stop at DONE",
    "achat": "achat",
    "astream": "astream",
    "http": "HTTP chat",
}


def show_chat(chat: dict[str, Any], console: Console) -> None:
    backends = {k: v for k, v in chat["backends"].items() if "turn" in v}
    for name, why in chat["backends"].items():
        if "skipped" in why:
            console.print(f"[yellow]chat turns on {name} skipped:[/] {why['skipped']}")
    if not backends:
        return
    console.print(_chat_turns(backends, chat["provider"]))
    console.print(_chat_growth(backends))
    console.print(_first_token(backends))


def _chat_turns(backends: dict[str, Any], provider: dict[str, Any]) -> Table:
    table = Table(
        title=f"Chat turn (ms), {provider['reply_words']}-word reply in"
        f" {provider['stream_chunks']} chunks, no delay. Overhead: over direct SSE."
        " Before/after: until the provider has the request, after its last byte (medians)."
        " Conn.: TCP connections opened"
    )
    columns = ("backend", "path", "p50", "p99", "overhead p50", "overhead p99")
    for column in (*columns, "before", "after", "conn."):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    for backend, run in backends.items():
        for name, label in CHAT_PATHS.items():
            latency = run["turn"].get(name)
            if latency is None:
                continue
            if "skipped" in latency:
                table.add_row(backend, label, "skipped: " + latency["skipped"])
                continue
            over = run["overhead"].get(name)
            phases = run["phases"][name]
            table.add_row(
                backend,
                label,
                f"{latency['median_ms']:.2f}",
                f"{latency['p99_ms']:.2f}",
                *(
                    (
                        f"{over['p50_ms']:+.1f} ×{over['p50_ratio']:.1f}",
                        f"{over['p99_ms']:+.1f} ×{over['p99_ratio']:.1f}",
                    )
                    if over
                    else ("", "")
                ),
                f"{phases['before_provider_median_ms']:.2f}",
                f"{phases['after_provider_median_ms']:.2f}",
                f"{run['tcp_connections'][name]:,}",
            )
    return table


def _chat_growth(backends: dict[str, Any]) -> Table:
    run = next(iter(backends.values()))
    g = run["growth"]
    table = Table(
        title=f"Chat turn as the history grows (median ms): turns {g['first_turns'][0]}–"
        f"{g['first_turns'][1]} ({g['history_messages_first'][0]}–"
        f"{g['history_messages_first'][1]} messages before) vs turns {g['last_turns'][0]}–"
        f"{g['last_turns'][1]} ({g['history_messages_last'][0]}–"
        f"{g['history_messages_last'][1]}); slope of a least-squares line"
    )
    for column in ("backend", "path", "first turns", "last turns", "µs/message"):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    for backend, run in backends.items():
        for name, label in CHAT_PATHS.items():
            if name in run["growth"]:
                row = run["growth"][name]
                table.add_row(
                    backend,
                    label,
                    f"{row['first_median_ms']:.2f}",
                    f"{row['last_median_ms']:.2f}",
                    f"{row['us_per_history_message']:.1f}",
                )
    return table


def _first_token(backends: dict[str, Any]) -> Table:
    delay = next(iter(backends.values()))["first_token"]["chunk_delay_ms"]
    table = Table(
        title=f"Time to first token (ms from the call), {delay:g} ms before each chunk: first"
        " content the caller sees; provider: when the provider wrote it; lag: between the two"
    )
    columns = ("backend", "path", "first p50", "p99", "provider p50", "p99")
    for column in (*columns, "lag p50", "p99", "turn p50", "p99"):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    for backend, run in backends.items():
        first = run["first_token"]
        for name in ("direct_stream", "astream"):
            row = first[name]
            table.add_row(
                backend,
                CHAT_PATHS[name],
                *_ms99(row["first_content"]),
                *_ms99(row["provider_first_token"]),
                *_ms99(row["first_content_after_provider"]),
                *_ms99(row["turn"]),
            )
    return table


def _ms99(latency: dict[str, float]) -> tuple[str, str]:
    return f"{latency['median_ms']:.2f}", f"{latency['p99_ms']:.2f}"
