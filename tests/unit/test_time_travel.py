"""State as of a version or a time, from snapshots and the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import InvalidVersionError
from domain.message import Message

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    ledger = open_ledger(database_url="memory://")
    yield ledger
    ledger.close()


def test_state_at_a_version_shows_the_title_and_messages_of_that_moment(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="first")
    ledger.append_messages(CTX, session.id, [Message.user("one")])
    ledger.update_session(CTX, session.id, SessionUpdate(title="second"))
    ledger.append_messages(CTX, session.id, [Message.user("two")])

    at_two = ledger.get_state("t1", session.id, version=2)
    at_four = ledger.get_state("t1", session.id, version=4)

    assert (at_two.session.title, at_two.session.version) == ("first", 2)
    assert [m.message.text for m in at_two.messages] == ["one"]
    assert at_four.session.title == "second"
    assert [m.message.text for m in at_four.messages] == ["one", "two"]


def test_state_at_a_time_is_the_last_version_recorded_by_then(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="t")
    for text in ("a", "b", "c"):
        ledger.append_messages(CTX, session.id, [Message.user(text)])
    events = ledger.list_events("t1", session.id).data

    for event in events:
        state = ledger.get_state("t1", session.id, at=event.timestamp)
        assert state.session.version == event.originator_version
    just_after_b = events[2].timestamp + timedelta(microseconds=1)
    if just_after_b < events[3].timestamp:
        assert ledger.get_state("t1", session.id, at=just_after_b).session.version == 3


def test_a_time_before_the_session_existed_is_refused(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    created = ledger.list_events("t1", session.id).data[0].timestamp

    with pytest.raises(InvalidVersionError):
        ledger.get_state("t1", session.id, at=created - timedelta(seconds=1))


@pytest.mark.parametrize("version", [0, -1, 3])
def test_a_version_outside_the_stream_is_refused(ledger: Ledger, version: int) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user("x")])

    with pytest.raises(InvalidVersionError):
        ledger.get_state("t1", session.id, version=version)


def test_snapshots_hold_no_message_list(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    for start in range(0, 250, 50):
        ledger.append_messages(
            CTX, session.id, [Message.user(f"m{i}") for i in range(start, start + 50)]
        )
    # Snapshots are taken on single-event saves at versions divisible by the interval.
    for _ in range(50):
        ledger.append_messages(CTX, session.id, [Message.user("tail")])

    snapshots = list(ledger.engine.snapshots.get(session.id))  # type: ignore[union-attr]

    assert snapshots, "a snapshot was taken"
    for snapshot in snapshots:
        assert "messages" not in snapshot.state
        assert len(repr(snapshot.state)) < 2000
    state = ledger.get_state("t1", session.id, version=snapshots[-1].originator_version)
    assert state.session.message_count == snapshots[-1].originator_version - 1
