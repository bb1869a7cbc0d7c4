"""`python -m bench.peers [--quick|--full]`: the peer suite; JSON, tables, plot.

Runs every system on SQLite, then on PostgreSQL (skipped, and said so, when the server
of `--postgres-url` does not answer), writes `bench/results/peers-<plan>.json`, and
renders its tables and plot into docs/benchmarks.md (`--no-docs` leaves the docs alone).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import sharegpt
from bench.chat_turns import MODEL
from bench.databases import DEFAULT_POSTGRES_URL, postgres_reachable
from bench.environment import describe, installed_version
from bench.fake_openai import REPLY, WORDS, FakeOpenAI
from bench.peers import render
from bench.peers.plan import FULL, QUICK
from bench.peers.run import run
from bench.peers.summary import summarise
from bench.peers.system import chat_factories, factories
from bench.report import RESULTS

PEERS = (
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "langgraph-checkpoint-postgres",
    "langchain-core",
    "langchain-openai",
    "openai-agents",
    "sqlalchemy",
)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    plan = FULL if args.full else QUICK
    console = Console(stderr=True)
    started = time.perf_counter()
    systems = {k: v for k, v in factories().items() if not args.systems or k in args.systems}
    chat = {k: v for k, v in chat_factories().items() if k in systems}
    results: dict[str, Any] = {
        "environment": describe(args.postgres_url if "postgres" in args.backends else None),
        "plan": plan.as_dict(),
        "systems": list(systems),
        "backends": {},
    }
    results["environment"]["versions"] |= {name: installed_version(name) for name in PEERS}
    results["environment"]["command"] = " ".join(["python -m bench.peers", *(argv or sys.argv[1:])])
    console.log("loading ShareGPT conversations")
    corpus = sharegpt.corpus()
    gc.collect()
    gc.freeze()  # the corpus's ~130,000 objects live all run: keep them out of gc's scans
    results["dataset"] = {
        "file": sharegpt.dataset_file().name,
        "conversations": corpus.conversations,
        "messages": corpus.messages,
        "conversations_used": len(corpus.dialogues),
        "messages_used": len(corpus.turns),
        "skipped_empty": corpus.skipped_empty,
    }
    with ExitStack() as stack:
        fake = stack.enter_context(FakeOpenAI()) if chat and plan.chat_histories else None
        if fake is not None:
            results["chat_provider"] = {
                "server": "bench/fake_openai.py on 127.0.0.1, its own process, no delay",
                "model": MODEL,
                "reply_words": WORDS,
                "reply_chars": len(REPLY),
                "user_messages": "ShareGPT's, in file order, the same for every system",
            }
        for backend in args.backends:
            if backend == "postgres" and (why := postgres_reachable(args.postgres_url)):
                results["backends"][backend] = {"skipped": f"PostgreSQL unreachable: {why}"}
                continue
            results["backends"][backend] = run(
                backend,
                plan,
                systems,
                corpus.dialogues,
                postgres_url=args.postgres_url,
                progress=console.log,
                chat=chat,
                fake=fake,
            )
    results["summary"] = summarise(results["backends"])
    results["duration_seconds"] = round(time.perf_counter() - started, 1)
    results["environment"]["machine"]["load_average_at_end"] = [
        round(x, 2) for x in os.getloadavg()
    ]
    output = args.output or RESULTS / f"peers-{plan.name}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_docs:
        render.render(results)
    print(render.tables(results))
    console.log(f"done in {results['duration_seconds']:.0f} s; figures in {output}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: under 5 minutes")
    mode.add_argument("--full", action="store_true", help="every conversation, bigger budgets")
    parser.add_argument("--backends", type=_names, default=["sqlite", "postgres"])
    parser.add_argument(
        "--systems", type=_names, default=[], help="e.g. chatledger,raw (default: all)"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--no-docs", action="store_true", help="leave docs/benchmarks.md and its plot alone"
    )
    return parser


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


if __name__ == "__main__":
    main()
