"""Rebuilding a session from its snapshot and events, three ways, in one process.

`python -m bench.session_loading [--backend sqlite|postgres]` builds a session of 1,000
ShareGPT messages on a fresh database as `bench.peers` does (writes of 100 messages, one
message a write from 500 to 549), then rebuilds it at several versions and at its head,
each way in turn for `--rounds` rounds, and prints the median of each. Version 501 is a
snapshot's; 550 is 10 events past one (snapshots every 20 versions); 599, inside a write of
100 messages, is 19 past one.

- *two reads*: the library's `Repository._reconstruct_aggregate` (the newest snapshot,
  then the events after it, every event opened);
- *one read*: `OneReadRepository`'s single statement, every event opened;
- *one read, unopened*: as the engine runs it, messages and completions left sealed.

All three must give the same session, which is checked first.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Repository

from bench.databases import DEFAULT_POSTGRES_URL, fresh
from bench.peers.chatledger_system import ChatledgerSystem
from bench.sharegpt import corpus
from domain.base import project_events
from domain.session import SessionState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.session_loading", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)
    turns = corpus().turns[:1000]
    with fresh(args.backend, "session_loading", postgres_url=args.postgres_url) as target:
        system = ChatledgerSystem(target)
        try:
            session = system.create_session()
            written = 0
            while written < 1000:
                # As `bench.peers` writes it: 100 messages a write, one a write from 500 to 549.
                count = (
                    1
                    if 500 <= written < 549
                    else min(100, (500 if written < 500 else 1000) - written)
                )
                system.append(session, system.prepare(turns[written : written + count]))
                written += count
            repository: Any = system.ledger.engine.repository
            sealed = repository._to_event
            opened = repository.event_store.mapper.to_domain_event

            def one_read(to_event: Callable[[Any], Any]) -> Callable[[int | None], Any]:
                def rebuild(version: int | None) -> Any:
                    repository._to_event = to_event
                    return repository._reconstruct_aggregate(session.id, version, project_events)

                return rebuild

            ways: dict[str, Callable[[int | None], Any]] = {
                "two reads": lambda v: Repository._reconstruct_aggregate(
                    repository, session.id, v, project_events
                ),
                "one read": one_read(opened),
                "one read, unopened": one_read(sealed),
            }
            for version in (501, 550, 599, None):
                states = {
                    SessionState.of(rebuild(version)).model_dump_json() for rebuild in ways.values()
                }
                assert len(states) == 1, f"the ways disagree at version {version}"
                samples: dict[str, list[float]] = {name: [] for name in ways}
                for _ in range(args.rounds):
                    for name, rebuild in ways.items():
                        began = time.perf_counter()
                        rebuild(version)
                        samples[name].append(time.perf_counter() - began)
                at = "the head" if version is None else f"version {version}"
                figures = ", ".join(
                    f"{name} {statistics.median(s) * 1000:.3f} ms" for name, s in samples.items()
                )
                print(f"{args.backend}, {at}: {figures}")
            repository._to_event = sealed
        finally:
            system.close()


if __name__ == "__main__":
    main()
