"""Loading a session in one read (`domain.repository.OneReadRepository`), on both backends:
its newest snapshot at or below the version and the events after it, in one statement.
What it builds is the session its events fold to, at every version and at the head."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.base import project_events
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import InvalidVersionError
from domain.message import Message
from domain.repository import OneReadRepository, SnapshotReads
from domain.session import SessionState

CTX = CommandContext(tenant_id="t1", actor="someone")


@pytest.fixture
def ledgers(database_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers on one database: the second has nothing cached."""
    first, second = (open_ledger(Settings(database_url=database_url)) for _ in range(2))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def long_session(ledger: Ledger) -> str:
    """A session of 251 events (snapshots at 100 and 200) whose state moves as it goes."""
    session_id = str(ledger.create_session(CTX, title="t0").id)
    for i in range(25):
        ledger.append_messages(CTX, session_id, [Message.user(f"m{i}.{j}") for j in range(9)])
        ledger.update_session(CTX, session_id, SessionUpdate(title=f"t{i + 1}"))
    return session_id


def folded(ledger: Ledger, session_id: str, version: int) -> SessionState:
    events = ledger.list_events("t1", session_id, limit=1000).data[:version]
    return SessionState.of(project_events(None, events))


def refuse(*_: Any, **__: Any) -> Any:
    raise AssertionError("loaded through the library's two-statement path")


def test_the_session_at_every_version_is_what_its_events_fold_to(
    ledgers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = ledgers
    session_id = long_session(first)
    engine = second.engine
    assert isinstance(engine.repository, OneReadRepository)
    assert isinstance(engine.recorder, SnapshotReads)
    expected = {v: folded(first, session_id, v) for v in (1, 2, 99, 100, 101, 150, 200, 201, 251)}
    assert engine.snapshots is not None
    monkeypatch.setattr(engine.snapshots.recorder, "select_events", refuse)
    monkeypatch.setattr(engine.recorder, "select_events", refuse)

    for version, state in expected.items():
        assert engine.get_state("t1", UUID(session_id), version=version) == state
    head = second.get_session("t1", session_id)  # not cached by `second`: loaded in one read
    assert head == expected[251] and head.title == "t25" and head.message_count == 225
    with pytest.raises(InvalidVersionError):
        engine.get_state("t1", head.id, version=252)


def test_a_session_loaded_in_one_read_takes_further_writes(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    session_id = long_session(first)

    second.append_messages(CTX, session_id, [Message.user("from the second")])

    assert first.get_session("t1", session_id).message_count == 226
    history = second.list_messages("t1", session_id, limit=1).data
    assert second.get_session("t1", session_id).version == 252
    assert history and history[0].message.text == "m0.0"
