"""Where an append's time goes: pyinstrument over single-message appends.

`python -m bench.profile_appends [--backend sqlite|postgres] [--appends 500]` builds a
session of `--length` messages on a fresh database, then profiles `--appends`
single-message `Ledger.append_messages` calls. The text report is printed; text and
HTML go to `bench/results/raw/profile-<backend>.{txt,html}`. Needs `pyinstrument`.

With `--cpu` nothing is profiled: after 500 warm-up appends, `--rounds` rounds of
`--appends` appends each print the process's CPU time per append (user and system,
the database's own work in the process included), for comparing two checkouts.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench.chatledger_runs import CTX, Messages, build_session
from bench.databases import DEFAULT_POSTGRES_URL, fresh
from bench.report import RESULTS
from bench.sharegpt import corpus


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_appends", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--length", type=int, default=1_000)
    parser.add_argument("--interval", type=float, default=0.0001, help="sampling interval (s)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--cpu", action="store_true", help="CPU per append, not profiled")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --appends (--cpu)")
    args = parser.parse_args(argv)
    if args.cpu:
        cpu_per_append(args)
        return

    from pyinstrument import Profiler

    from adapters.bootstrap import open_ledger
    from adapters.settings import Settings

    corpus()
    gc.collect()
    gc.freeze()
    with fresh(args.backend, "profile", postgres_url=args.postgres_url) as target:
        ledger = open_ledger(Settings(database_url=target.url))
        try:
            messages = Messages()
            session, _ = build_session(ledger, messages, args.length, 100)
            batches = [messages.take(1) for _ in range(args.appends)]
            profiler = Profiler(interval=args.interval)
            with profiler:
                for batch in batches:
                    ledger.append_messages(CTX, session, batch)
        finally:
            ledger.close()
    raw = RESULTS / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=True, show_all=False)
    (raw / f"profile-{args.backend}.txt").write_text(text)
    (raw / f"profile-{args.backend}.html").write_text(profiler.output_html())
    print(text)


def cpu_per_append(args: argparse.Namespace) -> None:
    """Print the process CPU time per single-message append, for each round."""
    from adapters.bootstrap import open_ledger
    from adapters.settings import Settings

    corpus()
    gc.collect()
    gc.freeze()
    warmup = 500
    with fresh(args.backend, "profile", postgres_url=args.postgres_url) as target:
        ledger = open_ledger(Settings(database_url=target.url))
        try:
            messages = Messages()
            session, _ = build_session(ledger, messages, args.length, 100)
            for _ in range(warmup):
                ledger.append_messages(CTX, session, messages.take(1))
            rounds = []
            for _ in range(args.rounds):
                batches = [messages.take(1) for _ in range(args.appends)]
                started = time.process_time()
                for batch in batches:
                    ledger.append_messages(CTX, session, batch)
                rounds.append((time.process_time() - started) / args.appends * 1e3)
        finally:
            ledger.close()
    figures = " ".join(f"{ms:.3f}" for ms in rounds)
    print(f"{args.backend}: CPU per append, ms, by round: {figures} (min {min(rounds):.3f})")


if __name__ == "__main__":
    main()
