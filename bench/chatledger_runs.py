"""chatledger through its Python API (`Ledger`): building sessions, reads, time travel.

`LedgerSubject` opens a ledger on a fresh database and
1. warms up on a scratch session, then builds one session per length N (batches of
   `plan.batch` messages per `append_messages` call, timed: the bulk-append rate);
2. reads the history of the sessions in `plan.read_sizes` (a 50-message page, oldest
   and newest, and the whole history: paged by 1,000, and through `get_state`); on
   PostgreSQL, once as loaded and once more after `ANALYZE`;
3. reads the state at version N/2 of the sessions in `plan.version_sizes`;
then serves `bench.appends` one single-message `append_messages` call at a time.
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from bench import sharegpt
from bench.databases import Target, analyze
from bench.latency import repeat
from bench.plan import Plan
from bench.storage import Payload
from domain.context import CommandContext
from domain.message import Message

TENANT = "bench"
CTX = CommandContext(tenant_id=TENANT, actor="bench")

Progress = Callable[[str], None]


class Messages:
    """Real ShareGPT messages, taken in order, with their payload counted."""

    def __init__(self) -> None:
        self.source: Iterator[Message] = sharegpt.messages()
        self.payload = Payload()

    def take(self, count: int) -> list[Message]:
        batch = list(itertools.islice(self.source, count))
        for message in batch:
            self.payload.add(message.text, len(message.model_dump_json(exclude_none=True)))
        return batch


class LedgerSubject:
    """A `Ledger` on a fresh database, with one session per length of the plan."""

    name = "chatledger"

    def __init__(self, target: Target, plan: Plan) -> None:
        self.target = target
        self.plan = plan
        self.messages = Messages()
        self.ledger = open_ledger(Settings(database_url=target.url))
        self.sessions: dict[int, Any] = {}

    def prepare(self, progress: Progress) -> dict[str, Any]:
        """Warm up, build the sessions, read them; the figures of the build and the reads."""
        plan, ledger = self.plan, self.ledger
        scratch = ledger.create_session(CTX, title="warm-up").id
        for _ in range(plan.warmup):
            ledger.append_messages(CTX, scratch, self.messages.take(1))
        build: dict[str, Any] = {}
        built: dict[int, UUID] = {}
        for n in sorted(set(plan.sizes) | set(plan.read_sizes) | set(plan.version_sizes)):
            progress(f"{self.target.backend}: building a session of {n:,} messages")
            built[n], build[str(n)] = build_session(ledger, self.messages, n, plan.batch)
        progress(f"{self.target.backend}: reading histories and states at version N/2")
        figures: dict[str, Any] = {"build": build}
        figures["reads"] = {str(n): _reads(ledger, built[n], n, plan) for n in plan.read_sizes}
        if self.target.backend == "postgres":
            # Just filled, the tables have no statistics yet, and the planner reads a whole
            # session to sort out one page. Measure again as autovacuum would leave them.
            analyze(self.target)
            figures["reads_after_analyze"] = {
                str(n): _reads(ledger, built[n], n, plan) for n in plan.read_sizes
            }
        figures["state_at_half"] = {
            str(n): _state_at_half(ledger, built[n], n, plan) for n in plan.version_sizes
        }
        self.sessions = {n: built[n] for n in plan.sizes}
        return figures

    def next_message(self, session: Any) -> list[Message]:
        return self.messages.take(1)

    def append(self, session: Any, message: list[Message]) -> None:
        self.ledger.append_messages(CTX, session, message)

    def close(self) -> None:
        self.ledger.close()


def build_session(
    ledger: Ledger, messages: Messages, n: int, batch: int
) -> tuple[UUID, dict[str, Any]]:
    """A session with exactly `n` messages, appended `batch` per call; and how fast."""
    session = ledger.create_session(CTX, title=f"{n} messages").id
    spent = 0.0
    calls = 0
    for start in range(0, n, batch):
        chunk = messages.take(min(batch, n - start))
        began = time.perf_counter()
        ledger.append_messages(CTX, session, chunk)
        spent += time.perf_counter() - began
        calls += 1
    assert ledger.get_session(TENANT, session).message_count == n
    return session, {
        "calls": calls,
        "seconds": round(spent, 3),
        "messages_per_second": round(n / spent, 1),
        "ms_per_call": round(spent / calls * 1000, 3),
    }


def _reads(ledger: Ledger, session: UUID, n: int, plan: Plan) -> dict[str, Any]:
    def page_oldest() -> None:
        assert len(ledger.list_messages(TENANT, session, limit=50).data) == min(50, n)

    def page_newest() -> None:
        ledger.list_messages(TENANT, session, limit=50, order="desc")

    def all_pages() -> None:
        cursor, count = None, 0
        while True:
            page = ledger.list_messages(TENANT, session, limit=1000, cursor=cursor)
            count += len(page.data)
            if (cursor := page.next_cursor) is None:
                break
        assert count == n

    def full_state() -> None:
        assert len(ledger.get_state(TENANT, session).messages) == n

    gc.collect()
    return {
        "page_50_oldest": _timed(page_oldest, plan),
        "page_50_newest": _timed(page_newest, plan),
        "full_history_paged_1000": _timed(all_pages, plan),
        "full_history_get_state": _timed(full_state, plan),
    }


def _state_at_half(ledger: Ledger, session: UUID, n: int, plan: Plan) -> dict[str, Any]:
    """`get_state(version=N/2)`: the whole state with its history, and the engine's part."""
    version = n // 2

    def with_history() -> None:
        state = ledger.get_state(TENANT, session, version=version)
        assert state.session.version == version
        assert len(state.messages) == version - 1  # version 1 is `Created`

    def engine_only() -> None:
        ledger.engine.get_state(TENANT, session, version=version)

    gc.collect()
    return {
        "version": version,
        "ledger_get_state": _timed(with_history, plan),
        "engine_get_state": _timed(engine_only, plan),
    }


def _timed(call: Callable[[], None], plan: Plan) -> dict[str, Any]:
    return repeat(call, plan.read_repeats, budget=plan.read_budget).as_dict()
