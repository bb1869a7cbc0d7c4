"""Several processes opening one fresh database at once (a server and its workers)."""

from __future__ import annotations

import multiprocessing

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from domain.context import CommandContext
from projections.session_list import SessionQuery


def open_and_write(url: str, index: int) -> None:
    ledger = open_ledger(Settings(database_url=url))
    try:
        ledger.create_session(CommandContext(tenant_id="t1", actor=f"p{index}"), title=f"p{index}")
    finally:
        ledger.close()


def test_processes_opening_a_fresh_database_together_all_succeed(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=open_and_write, args=(database_url, i)) for i in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)

    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        titles = {s.title for s in ledger.list_sessions(SessionQuery(tenant_id="t1")).data}
        assert titles == {"p0", "p1", "p2", "p3"}
    finally:
        ledger.close()
