"""Where an append's time goes: pyinstrument over single-message appends.

`python -m bench.profile_appends [--backend sqlite|postgres] [--appends 500]` builds a
session of `--length` messages on a fresh database, then profiles `--appends`
single-message `Ledger.append_messages` calls. The text report is printed; text and
HTML go to `bench/results/raw/profile-<backend>.{txt,html}`. Needs `pyinstrument`.
"""

from __future__ import annotations

import argparse
import gc

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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    main()
