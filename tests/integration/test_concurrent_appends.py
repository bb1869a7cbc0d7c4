"""Concurrent appends with expected versions: nothing lost, nothing doubled, no gaps."""

from __future__ import annotations

import threading
from collections import Counter

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.errors import VersionConflictError
from domain.message import Message

THREADS, APPENDS, SESSIONS = 20, 100, 5


def test_twenty_threads_appending_with_expected_versions_lose_and_duplicate_nothing(
    database_url: str,
) -> None:
    ledger = open_ledger(Settings(database_url=database_url, postgres_pool_size=10))
    ctx = CommandContext(tenant_id="t1", actor="load")
    session_ids = [ledger.create_session(ctx, title=f"s{i}").id for i in range(SESSIONS)]
    conflicts = Counter[int]()
    failures: list[BaseException] = []

    def append_all(thread: int) -> None:
        session_id = session_ids[thread % SESSIONS]
        try:
            for k in range(APPENDS):
                while True:
                    version = ledger.get_session("t1", session_id).version
                    try:
                        ledger.append_messages(
                            ctx,
                            session_id,
                            [Message.user(f"{thread}-{k}")],
                            expected_version=version,
                        )
                        break
                    except VersionConflictError:
                        conflicts[thread] += 1
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=append_all, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    try:
        assert failures == []
        assert sum(conflicts.values()) > 0, "the threads did race"
        per_session = THREADS // SESSIONS * APPENDS
        for index, session_id in enumerate(session_ids):
            events = ledger.list_events("t1", session_id, limit=1000).data
            assert [e.originator_version for e in events] == list(range(1, per_session + 2))
            texts = Counter(e.message.text for e in events[1:])  # type: ignore[attr-defined]
            expected = {
                f"{t}-{k}" for t in range(THREADS) if t % SESSIONS == index for k in range(APPENDS)
            }
            assert set(texts) == expected and set(texts.values()) == {1}
            history = ledger.list_messages("t1", session_id, limit=1000).data
            assert [e.version for e in history] == list(range(2, per_session + 2))
    finally:
        ledger.close()
