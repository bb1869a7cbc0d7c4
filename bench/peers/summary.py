"""Ratios and targets from a run's figures: each system against the raw floor and against
the best peer (LangGraph or the Agents SDK, whichever did better), and issue 6's targets
for chatledger, met or not.

Ratios of times (appends, reads, chat turns) are "× as long" (below 1 is faster); ratios
of rates (ingest) are "× as many per second" (above 1 is faster). In the chat-turn figures
the raw floor's place is the direct call to the provider.
"""

from __future__ import annotations

from typing import Any

REFERENCE = "raw"
OURS = "chatledger"
READS = ("history_1000", "history_10000", "page_1000", "page_10000")
MIDDLES = (
    "state_at_half_1000",
    "state_at_half_10000",
    "state_near_half_1000",
    "state_near_half_10000",
)
INGEST_TARGET = {"sqlite": 3_000.0, "postgres": 1_500.0}


def summarise(backends: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        backend: _backend(systems)
        for backend, systems in backends.items()
        if "skipped" not in systems
    } | {"targets": targets(backends)}


def _backend(systems: dict[str, Any]) -> dict[str, Any]:
    sizes = sorted({int(n) for s in systems.values() for n in s.get("append", {})})
    out: dict[str, Any] = {"append": {}, "reads": {}, "ingest": {}, "bulk_ingest": {}}
    for n in map(str, sizes):
        values = {k: s["append"][n]["median_ms"] for k, s in systems.items() if n in s["append"]}
        out["append"][n] = _compare(values, lower_is_better=True)
    for read in READS + MIDDLES:
        values = {
            k: s["reads"][read]["median_ms"]
            for k, s in systems.items()
            if "median_ms" in s["reads"].get(read, {})
        }
        if values:
            out["reads"][read] = _compare(values, lower_is_better=True)
    for key in ("ingest", "bulk_ingest"):
        values = {k: s[key]["messages_per_second"] for k, s in systems.items() if key in s}
        out[key] = _compare(values, lower_is_better=False)
    out["chat"] = compare_chat_turns(systems)
    out["flatness"] = {k: _flatness(s["append"]) for k, s in systems.items()}
    out["storage"] = {k: _storage(s) for k, s in systems.items() if "storage_long" in s}
    return out


def compare_chat_turns(systems: dict[str, Any]) -> dict[str, Any]:
    """Chat turns per history length: median and p95, each against the direct call (whose
    figures stand in the raw floor's place) and the best peer."""
    turns = {k: s["chat"]["turn"] for k, s in systems.items() if "turn" in s.get("chat", {})}
    histories = sorted({int(h) for by_history in turns.values() for h in by_history})
    out: dict[str, Any] = {}
    for h in map(str, histories):
        out[h] = {
            stat: _compare(
                {k: t[h][f"{stat}_ms"] for k, t in turns.items() if h in t}, lower_is_better=True
            )
            for stat in ("median", "p95")
        }
    return out


def _compare(values: dict[str, float], *, lower_is_better: bool) -> dict[str, Any]:
    """Each value with its ratio to the raw floor and to the best peer."""
    peers = [v for k, v in values.items() if k not in (OURS, REFERENCE)]
    best = (min if lower_is_better else max)(peers) if peers else None
    floor = values.get(REFERENCE)
    return {
        k: {
            "value": v,
            "x_raw": round(v / floor, 2) if floor else None,
            "x_best_peer": round(v / best, 3) if best else None,
        }
        for k, v in values.items()
    }


def _flatness(append: dict[str, Any]) -> float | None:
    if "10" not in append or "10000" not in append:
        return None
    return round(append["10000"]["median_ms"] / append["10"]["median_ms"], 2)


def _storage(system: dict[str, Any]) -> dict[str, Any]:
    long, short = system["storage_long"], system.get("storage_short")
    out = {
        "bytes_per_message_long": long["bytes_per_message"],
        "x_payload_long": long["overhead_vs_text"],
    }
    if short:
        out |= {
            "bytes_per_message_short": short["bytes_per_message"],
            "x_payload_short": short["overhead_vs_text"],
            "long_over_short": round(long["bytes_per_message"] / short["bytes_per_message"], 2),
        }
    return out


def targets(backends: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 6's targets for chatledger, per backend: the figure, the goal, met or not."""
    rows: list[dict[str, Any]] = []
    for backend, systems in backends.items():
        ours, raw = systems.get(OURS), systems.get(REFERENCE)
        if ours and raw:
            rows += [{"backend": backend, **row} for row in _targets(backend, ours, raw)]
    return rows


def _targets(backend: str, ours: dict[str, Any], raw: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [_target("append N=10,000 ÷ N=10 (median)", _flatness(ours["append"]), 1.2)]
    worst = max(
        ours["append"][n]["median_ms"] / raw["append"][n]["median_ms"]
        for n in ours["append"]
        if n in raw["append"]
    )
    rows.append(_target("append ÷ raw floor (median, worst N)", round(worst, 2), 3.0))
    rate = ours["ingest"]["messages_per_second"]
    rows.append(_target("ingest, msg/s", rate, INGEST_TARGET[backend], at_least=True))
    floor_rate = raw["ingest"]["messages_per_second"]
    rows.append(_target("ingest ÷ raw floor (moonshot)", round(rate / floor_rate, 3), 0.5, True))
    for read in READS + MIDDLES:
        a, b = ours["reads"].get(read, {}), raw["reads"].get(read, {})
        if "median_ms" in a and "median_ms" in b:
            ratio = round(a["median_ms"] / b["median_ms"], 2)
            rows.append(_target(f"`{read}` ÷ raw SELECT", ratio, 2.0))
    storage = _storage(ours)
    rows.append(_target("bytes ÷ text payload, long sessions", storage["x_payload_long"], 1.6))
    if "x_payload_short" in storage:
        rows.append(_target("bytes ÷ text payload, conversations", storage["x_payload_short"], 1.6))
        linear = storage["long_over_short"]
        rows.append(_target("bytes per message, long ÷ short sessions", linear, 1.2))
    if backend == "sqlite" and "catch_up" in ours:
        slowest = min(v["events_per_second"] for v in ours["catch_up"]["views"].values())
        rows.append(_target("view catch-up, events/s (slowest view)", slowest, 5_000.0, True))
    return rows


def _target(
    name: str, measured: float | None, goal: float, at_least: bool = False
) -> dict[str, Any]:
    met = None if measured is None else (measured >= goal if at_least else measured <= goal)
    return {
        "target": name,
        "measured": measured,
        "goal": f"{'≥' if at_least else '≤'} {goal:g}",
        "met": met,
    }
