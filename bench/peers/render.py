"""A peer run's figures as Markdown tables and a plot, written into docs/benchmarks.md.

`render(results)` replaces what lies between the plan's markers in the docs
(`<!-- peers:begin -->`/`<!-- peers:end -->` for the quick plan, `peers-full:` for the
full one) and redraws its plot (`docs/benchmarks-peers-append.png`, or `…-full.png`).
`python -m bench.peers.render [FILE …]` does it again from result files: several files of
one plan (say, one per backend) are rendered as one run. The prose around the markers is
written by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import RESULTS

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "benchmarks.md"
PLOT = DOCS / "benchmarks-peers-append.png"
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"
FULL_PLOT = DOCS / "benchmarks-peers-append-full.png"
FULL_BEGIN, FULL_END = "<!-- peers-full:begin -->", "<!-- peers-full:end -->"
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
OVER = "> budget"


def render(results: dict[str, Any]) -> None:
    from bench.peers.plot import plot_append_latency

    full = results["plan"]["name"] == "full"
    begin, end = (FULL_BEGIN, FULL_END) if full else (BEGIN, END)
    plot_append_latency(results, FULL_PLOT if full else PLOT)
    text = PAGE.read_text()
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    PAGE.write_text(f"{head}{begin}\n\n{tables(results)}\n{end}{tail}")


def merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of one plan on different backends, as one run (the first run's environment;
    each backend's figures and the summary from its own run)."""
    from bench.peers.summary import summarise

    if len({run["plan"]["name"] for run in runs}) != 1:
        raise ValueError("the runs to merge are of different plans")
    first = runs[0]
    backends = {k: v for run in runs for k, v in run["backends"].items() if "skipped" not in v}
    commands = "; ".join(run["environment"]["command"] for run in runs)
    versions = {k: v for run in runs for k, v in run["environment"]["versions"].items() if v}
    machine = first["environment"]["machine"] | {
        "load_average_at_end": runs[-1]["environment"]["machine"]["load_average_at_end"]
    }
    environment = first["environment"] | {
        "command": commands,
        "versions": first["environment"]["versions"] | versions,
        "machine": machine,
    }
    return first | {
        "environment": environment,
        "backends": backends,
        "summary": summarise(backends),
        "duration_seconds": sum(run["duration_seconds"] for run in runs),
    }


def tables(results: dict[str, Any]) -> str:
    backends = {k: v for k, v in results["backends"].items() if "skipped" not in v}
    out = _run(results)
    out += _targets(results["summary"]["targets"])
    out += _appends(results, backends)
    out += _ingest(results, backends)
    out += _reads(results, backends)
    out += _storage(results, backends)
    out += _catch_up(backends)
    out += chat_turn_tables(results, backends)
    return "\n".join(out)


def _run(results: dict[str, Any]) -> list[str]:
    env, data, plan = results["environment"], results["dataset"], results["plan"]
    machine, versions = env["machine"], env["versions"]
    peers = ", ".join(
        f"{k} {v}" for k, v in versions.items() if k.startswith(("lang", "openai", "sqlal")) and v
    )
    out = ["#### This run", "", *_row("", ""), *_row("---", "---")]
    out += _row("when, commit", f"{env['timestamp']}, `{env['git']}`")
    out += _row(
        "command", f"`{env['command']}` ({plan['name']} plan, {results['duration_seconds']:.0f} s)"
    )
    out += _row(
        "machine",
        f"{machine['nproc']} CPUs, {machine['ram_gib']} GiB, {machine['tempdir_filesystem']};"
        f" load average {machine['load_average_at_start'][0]} at the start,"
        f" {machine['load_average_at_end'][0]} at the end",
    )
    out += _row(
        "versions",
        f"Python {versions['python']}, SQLite {versions['sqlite']},"
        f" PostgreSQL {versions['postgresql']}, eventsourcing {versions['eventsourcing']},"
        f" psycopg {versions['psycopg']}; {peers}",
    )
    out += _row(
        "data",
        f"{data['file']}: {data['conversations']:,} conversations, {data['messages']:,} messages"
        f" ({data['messages_used']:,} with text, in {data['conversations_used']:,} conversations)",
    )
    for name, why in results["backends"].items():
        if "skipped" in why:
            out += _row(f"{name} skipped", why["skipped"])
    return [*out, ""]


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    out = ["#### Targets (chatledger)", ""]
    out += _row("backend", "target", "measured", "goal", "met")
    out += _row(*["---"] * 5)
    for r in rows:
        met = {True: "yes", False: "**no**", None: "?"}[r["met"]]
        out += _row(BACKENDS[r["backend"]], r["target"], _num(r["measured"]), r["goal"], met)
    return [*out, ""]


def _appends(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    sizes = [str(n) for n in results["plan"]["sizes"]]
    out = ["#### Append one message: median ms (× raw floor)", ""]
    out += _row("backend", "system", *[f"N={int(n):,}" for n in sizes], "N=10,000 ÷ N=10")
    out += _row(*["---"] * (len(sizes) + 3))
    for backend, systems in backends.items():
        summary = results["summary"][backend]
        for name, s in systems.items():
            cells = []
            for n in sizes:
                if n not in s["append"]:
                    cells.append(OVER)
                    continue
                a = s["append"][n]
                cut = "†" if a["samples"] < results["plan"]["appends"] else ""
                x = summary["append"][n][name]["x_raw"]
                cells.append(f"{a['median_ms']:.2f}{cut}{_times(x)}")
            flat = summary["flatness"].get(name)
            out += _row(BACKENDS[backend], s["label"], *cells, _num(flat))
        ours = summary["append"]
        out += _row(
            BACKENDS[backend],
            "*chatledger ÷ best peer (below 1: faster)*",
            *[_num(_vs_best(ours.get(n, {}))) for n in sizes],
            "",
        )
    out += [
        "",
        f"† the series was cut by its time budget ({results['plan']['append_budget']:g} s)"
        f" before {results['plan']['appends']} appends; {OVER}: the session of that length"
        f" was not built within the build budget ({results['plan']['build_budget']:g} s).",
        "",
    ]
    return out


def _ingest(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    out = ["#### Ingest ShareGPT conversations: messages per second (× raw floor)", ""]
    out += _row(
        "backend",
        "system",
        "one message per write",
        "conversations",
        "one write per conversation",
        "conversations",
    )
    out += _row(*["---"] * 6)
    for backend, systems in backends.items():
        summary = results["summary"][backend]
        for name, s in systems.items():
            cells = []
            for key in ("ingest", "bulk_ingest"):
                i = s[key]
                x = summary[key][name]["x_raw"]
                cells += [
                    f"{i['messages_per_second']:,.0f}{_times(x)}",
                    f"{i['conversations']:,}" + ("" if i["complete"] else "‡"),
                ]
            out += _row(BACKENDS[backend], s["label"], *cells)
        ours = [_num(_vs_best(summary[k])) for k in ("ingest", "bulk_ingest")]
        label = "*chatledger ÷ best peer (above 1: faster)*"
        out += _row(BACKENDS[backend], label, ours[0], "", ours[1], "")
    out += [
        "",
        "‡ stopped by the time budget (one message per write:"
        f" {results['plan']['ingest_budget']:g} s, a conversation per write:"
        f" {results['plan']['bulk_budget']:g} s of calls); the rate is over the conversations"
        " done.",
        "",
    ]
    return out


READ_COLUMNS = {
    "history_1000": "history, N=1,000",
    "history_10000": "history, N=10,000",
    "page_1000": "50 newest, N=1,000",
    "page_10000": "50 newest, N=10,000",
    "state_at_half_1000": "state at 500 of 1,000",
    "state_at_half_10000": "state at 5,000 of 10,000",
    "state_near_half_1000": "state at 549 of 1,000",
    "state_near_half_10000": "state at 5,049 of 10,000",
}


def _reads(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    out = ["#### Reads: median ms (× raw SELECT)", ""]
    out += _row("backend", "system", *READ_COLUMNS.values())
    out += _row(*["---"] * (len(READ_COLUMNS) + 2))
    for backend, systems in backends.items():
        summary = results["summary"][backend]["reads"]
        for name, s in systems.items():
            cells = []
            for key in READ_COLUMNS:
                r = s["reads"].get(key)
                if r is None:
                    cells.append(OVER)
                elif "not_supported" in r:
                    cells.append("n/a")
                else:
                    cells.append(f"{r['median_ms']:.2f}{_times(summary[key][name]['x_raw'])}")
            out += _row(BACKENDS[backend], s["label"], *cells)
        ours = [_num(_vs_best(summary.get(key, {}))) for key in READ_COLUMNS]
        out += _row(BACKENDS[backend], "*chatledger ÷ best peer (below 1: faster)*", *ours)
    return [*out, ""]


def _storage(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    out = ["#### Bytes stored per message (× the UTF-8 text of the messages)", ""]
    out += _row(
        "backend", "system", "text", "long sessions", "conversations", "long ÷ conversations"
    )
    out += _row(*["---"] * 6)
    for backend, systems in backends.items():
        summary = results["summary"][backend]["storage"]
        for name, s in systems.items():
            st = summary[name]
            out += _row(
                BACKENDS[backend],
                s["label"],
                f"{s['storage_long']['payload_text_bytes_per_message']:,.0f}",
                f"{st['bytes_per_message_long']:,.0f} ({st['x_payload_long']:g}×)",
                f"{st['bytes_per_message_short']:,.0f} ({st['x_payload_short']:g}×)",
                _num(st["long_over_short"]),
            )
    return [*out, ""]


def _catch_up(backends: dict[str, Any]) -> list[str]:
    out = ["#### chatledger: each view rebuilt from empty", ""]
    out += _row("backend", "view", "events read", "seconds", "events/s")
    out += _row(*["---"] * 5)
    for backend, systems in backends.items():
        for view, v in systems.get("chatledger", {}).get("catch_up", {}).get("views", {}).items():
            out += _row(
                BACKENDS[backend],
                f"`{view}`",
                f"{v['events']:,}",
                f"{v['seconds']:.2f}",
                f"{v['events_per_second']:,.0f}",
            )
    return [*out, ""]


def chat_turn_tables(results: dict[str, Any], backends: dict[str, Any]) -> list[str]:
    """The chat-turn table and where each turn's time goes; nothing if no turns were run."""
    chats = {b: {k: s["chat"] for k, s in v.items() if "chat" in s} for b, v in backends.items()}
    histories = sorted({int(h) for by in chats.values() for c in by.values() for h in c["turn"]})
    if not histories:
        return []
    plan = results["plan"]
    out = ["#### Chat turn: median ms (× direct call)", ""]
    heads = [f"{c}, {h:,} turns before" for h in histories for c in ("median", "p95")]
    out += _row("backend", "system", *heads)
    out += _row(*["---"] * (len(heads) + 2))
    where = ["#### Chat turn: where the time goes (median ms)", ""]
    heads = [f"{c}, {h:,} turns before" for h in histories for c in ("before", "provider", "after")]
    where += _row("backend", "system", *heads)
    where += _row(*["---"] * (len(heads) + 2))
    for backend, systems in chats.items():
        summary = results["summary"][backend].get("chat", {})
        for name, c in systems.items():
            cells, split = [], []
            for h in map(str, histories):
                if h not in c["turn"]:
                    cells += ["–", "–"]
                    split += ["–"] * 3
                    continue
                t = c["turn"][h]
                cut = "†" if t["samples"] < plan["chat_turns"] else ""
                for stat in ("median", "p95"):
                    x = summary[h][stat][name]["x_raw"]
                    cells.append(f"{t[f'{stat}_ms']:.2f}{cut}{_times(x)}")
                p = c["phases"][h]
                split += [
                    f"{p[f'{k}_median_ms']:.2f}"
                    for k in ("before_provider", "provider", "after_provider")
                ]
            out += _row(BACKENDS[backend], c["label"], *cells)
            where += _row(BACKENDS[backend], c["label"], *split)
        ours = [
            _num(_vs_best(summary.get(str(h), {}).get(stat, {})))
            for h in histories
            for stat in ("median", "p95")
        ]
        out += _row(BACKENDS[backend], "*chatledger ÷ best peer (below 1: faster)*", *ours)
    out += [
        "",
        f"{plan['chat_turns']} rounds of one turn per conversation and system after the"
        f" conversation had {' or '.join(f'{h:,}' for h in histories)} turns (2 messages"
        " each); the history grows by 2 messages"
        " a turn during the series. × direct: the time of one httpx POST of the same messages"
        " to the same fake provider (no storage). † cut by the chat budget"
        f" ({plan['chat_budget']:g} s).",
        "",
        *where,
        "",
        "*before*: from the call to the provider having the request (loading the history,"
        " building the request); *provider*: the fake server's own time; *after*: from its"
        " last byte to the call's return (reading the reply, storing the turn).",
        "",
    ]
    return out


def _vs_best(compared: dict[str, Any]) -> float | None:
    """chatledger's ratio to the best peer in one comparison of `summary`, if any."""
    return compared.get("chatledger", {}).get("x_best_peer")


def _times(ratio: float | None) -> str:
    """ " (2.5×)" after a figure; nothing when there is no raw floor to compare with."""
    return "" if ratio is None else f" ({ratio:g}×)"


def _row(*cells: str) -> list[str]:
    return ["| " + " | ".join(cells) + " |"]


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


if __name__ == "__main__":
    paths = [Path(arg) for arg in sys.argv[1:]] or [RESULTS / "peers-quick.json"]
    render(merged([json.loads(path.read_text()) for path in paths]))
