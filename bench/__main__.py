"""`python -m bench [--quick|--full]`: run the benchmarks, print the tables, save the JSON.

Two suites: `appends` (appends, reads, time travel and storage on ShareGPT text, against
the raw drivers) and `chat` (a chat turn's overhead over a direct call to a fake provider,
`bench.chat_turns`). Figures go to `bench/results/latest.json` (the chat suite's under
`chat_turns`, with its own `environment`); a run of one suite only (`--suites chat`)
replaces that suite's figures in an existing file and keeps the other's. Every
single-append sample, and a plot of them, go to the git-ignored `bench/results/raw/`.
PostgreSQL runs in fresh databases on the server of `--postgres-url` (skipped, and said
so, when it does not answer).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import backend_run, chat_turns, report, sharegpt
from bench.databases import DEFAULT_POSTGRES_URL, postgres_reachable
from bench.environment import describe
from bench.fake_openai import FakeOpenAI
from bench.plan import FULL, QUICK, Plan

SUITES = ("appends", "chat")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    plan = FULL if args.full else QUICK
    console = Console(stderr=True)
    started = time.perf_counter()

    def progress(text: str) -> None:
        console.log(text)

    results: dict[str, Any] = {
        "environment": describe(args.postgres_url if "postgres" in args.backends else None),
        "plan": plan.as_dict(),
        "suites": args.suites,
        "dataset": None,
        "backends": {},
    }
    raw: dict[str, Any] = {}
    if "appends" in args.suites:
        progress("loading ShareGPT conversations")
        corpus = sharegpt.corpus()
        # The corpus is ~130,000 long-lived objects: keep them out of the collector's scans,
        # so a gen-2 collection costs what it would in a server, not in this harness.
        gc.collect()
        gc.freeze()
        results["dataset"] = {
            "file": str(sharegpt.dataset_file().name),
            "conversations": corpus.conversations,
            "messages": corpus.messages,
            "messages_used": len(corpus.turns),
            "skipped_empty": corpus.skipped_empty,
            "skipped_unstorable": corpus.skipped_unstorable,
        }
        for backend in args.backends:
            if backend == "postgres" and (why := postgres_reachable(args.postgres_url)):
                results["backends"][backend] = {"skipped": f"PostgreSQL unreachable: {why}"}
                continue
            results["backends"][backend], raw[backend] = backend_run.run(
                backend, plan, postgres_url=args.postgres_url, progress=progress
            )
    results["summary"] = report.summarise(results)
    if "chat" in args.suites:
        results["chat_turns"] = _chat(args, plan, progress)
    results["duration_seconds"] = round(time.perf_counter() - started, 1)
    # The machine may be shared: a high load says the figures are noisier than usual.
    results["environment"]["machine"]["load_average_at_end"] = [
        round(x, 2) for x in os.getloadavg()
    ]

    shown = results
    if set(args.suites) != set(SUITES) and args.output.exists():
        results = _merged(json.loads(args.output.read_text()), results, args.suites)
    report.save(results, args.output)
    raw_dir = args.output.parent / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    if raw:
        (raw_dir / "append_samples_ms.json").write_text(json.dumps(raw) + "\n")
    if raw and not args.no_plot:
        from bench.plot import plot_appends

        plot_appends(raw, raw_dir / "append_latency.png")
    report.show(shown, Console())
    progress(f"done in {time.perf_counter() - started:.0f} s; figures in {args.output}")


def _chat(args: argparse.Namespace, plan: Plan, progress: Any) -> dict[str, Any]:
    """The chat suite on every backend, against one fake provider process."""
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "environment": describe(args.postgres_url if "postgres" in args.backends else None),
        "plan": {k: v for k, v in plan.as_dict().items() if k == "name" or k.startswith("chat_")},
        "provider": chat_turns.describe_provider(plan),
        "backends": {},
    }
    with FakeOpenAI() as fake:
        for backend in args.backends:
            if backend == "postgres" and (why := postgres_reachable(args.postgres_url)):
                figures["backends"][backend] = {"skipped": f"PostgreSQL unreachable: {why}"}
                continue
            figures["backends"][backend] = chat_turns.run(
                backend, plan, postgres_url=args.postgres_url, fake=fake, progress=progress
            )
    figures["duration_seconds"] = round(time.perf_counter() - started, 1)
    figures["environment"]["machine"]["load_average_at_end"] = [
        round(x, 2) for x in os.getloadavg()
    ]
    return figures


def _merged(previous: dict[str, Any], new: dict[str, Any], suites: list[str]) -> dict[str, Any]:
    """`previous` figures with those of the suites just run in their place."""
    if "appends" in suites:
        if "chat_turns" in previous:
            new["chat_turns"] = previous["chat_turns"]
        return new
    previous["chat_turns"] = new["chat_turns"]
    return previous


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: a few minutes")
    mode.add_argument("--full", action="store_true", help="more samples, N up to 100,000")
    parser.add_argument(
        "--backends",
        type=lambda text: [b.strip() for b in text.split(",") if b.strip()],
        default=["sqlite", "postgres"],
        help="comma-separated: sqlite,postgres (default both)",
    )
    parser.add_argument(
        "--suites",
        type=lambda text: [s.strip() for s in text.split(",") if s.strip()],
        default=list(SUITES),
        help="comma-separated: appends,chat (default both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a server to create (and drop) fresh databases on (default %(default)s)",
    )
    parser.add_argument("--output", type=Path, default=report.RESULTS / "latest.json")
    parser.add_argument("--no-plot", action="store_true", help="skip the matplotlib plot")
    return parser


if __name__ == "__main__":
    main()
