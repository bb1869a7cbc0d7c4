"""The session list applies a batch of events in as few row updates as one by one allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.message import Message
from domain.session import Session
from projections.base import Cursor
from projections.session_list import SessionListProjection, SessionListView

CTX = CommandContext(tenant_id="t1", actor="alice")


class CallsView(SessionListView):
    """Records what the projection asks of its view (the rows are the SQL tests' job)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def add_session(self, cursor: Cursor, event: Session.Created) -> None:
        self.calls.append(("add", event.title, event.originator_version))

    def touch(self, cursor: Cursor, event: Session.Event, **changes: Any) -> None:
        self.calls.append(("touch", event.originator_version, changes))

    def get_metadata(self, cursor: Cursor, session_id: str) -> dict[str, Any]:
        return {}

    def clear(self, cursor: Cursor) -> None:
        raise NotImplementedError

    def list_sessions(self, query: Any) -> Any:
        raise NotImplementedError


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    ledger = open_ledger(database_url="memory://")
    yield ledger
    ledger.close()


def events_of(ledger: Ledger, session_id: object) -> list[Any]:
    return list(ledger.list_events("t1", str(session_id)).data)


def test_a_run_of_events_that_only_move_a_row_is_one_update(ledger: Ledger) -> None:
    a = ledger.create_session(CTX, title="a", messages=[Message.user("1"), Message.user("2")])
    ledger.update_session(CTX, a.id, SessionUpdate(situation="calm"))  # no handler of its own
    ledger.append_messages(CTX, a.id, [Message.user("3")])
    ledger.update_session(CTX, a.id, SessionUpdate(title="renamed"))
    ledger.append_messages(CTX, a.id, [Message.user("4"), Message.user("5")])
    view = CallsView()

    batch = [(event, position) for position, event in enumerate(events_of(ledger, a.id), 1)]
    SessionListProjection(view).process_batch(batch, cursor=None)  # type: ignore[arg-type]

    assert view.calls == [
        ("add", "a", 1),
        ("touch", 5, {"message_delta": 3}),  # two messages, the situation, one message
        ("touch", 6, {"title": "renamed"}),
        ("touch", 8, {"message_delta": 2}),
    ]


def test_runs_end_where_the_session_changes(ledger: Ledger) -> None:
    a = ledger.create_session(CTX, title="a")
    b = ledger.create_session(CTX, title="b")
    ledger.append_messages(CTX, a.id, [Message.user("a1")])
    ledger.append_messages(CTX, b.id, [Message.user("b1")])
    ledger.append_messages(CTX, a.id, [Message.user("a2")])
    first, second = events_of(ledger, a.id)[1:], events_of(ledger, b.id)[1:]
    view = CallsView()

    interleaved = [(first[0], 3), (second[0], 4), (first[1], 5)]
    SessionListProjection(view).process_batch(interleaved, cursor=None)  # type: ignore[arg-type]

    assert view.calls == [
        ("touch", 2, {"message_delta": 1}),
        ("touch", 2, {"message_delta": 1}),
        ("touch", 3, {"message_delta": 1}),
    ]
