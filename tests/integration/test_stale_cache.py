"""Commands decided on a cached session another process has moved past.

A command first decides on the session as its process last saw it, without asking the
store for newer events. Two ledgers on one database stand for two processes: each has
its own cache, so the second one's writes leave the first one's cache stale.
"""

from __future__ import annotations

import pytest

from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import SessionDeletedError, VersionConflictError
from domain.message import Message

CTX = CommandContext(tenant_id="t1", actor="someone")


def _stale_session(ledgers: tuple[Ledger, Ledger]) -> str:
    """A session the first ledger has cached at version 2, and the second moved to 4."""
    first, second = ledgers
    session_id = str(first.create_session(CTX, title="mine").id)
    first.append_messages(CTX, session_id, [Message.user("one")])
    second.append_messages(CTX, session_id, [Message.user("two")])
    second.append_messages(CTX, session_id, [Message.user("three")])
    return session_id


def test_an_append_on_a_stale_cache_lands_after_the_other_process_s_writes(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, _ = ledgers
    session_id = _stale_session(ledgers)

    result = first.append_messages(CTX, session_id, [Message.user("four")])

    assert result.session.version == 5 and result.session.message_count == 4
    history = first.list_messages("t1", session_id).data
    assert [(e.version, e.message.text) for e in history] == [
        (2, "one"),
        (3, "two"),
        (4, "three"),
        (5, "four"),
    ]
    events = first.list_events("t1", session_id).data
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5]


def test_a_session_deleted_by_another_process_refuses_appends(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    session_id = _stale_session(ledgers)
    second.delete_session(CTX, session_id)

    with pytest.raises(SessionDeletedError):
        first.append_messages(CTX, session_id, [Message.user("too late")])


def test_an_expected_version_is_compared_with_the_fresh_state(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, _ = ledgers
    session_id = _stale_session(ledgers)

    with pytest.raises(VersionConflictError):
        first.append_messages(CTX, session_id, [Message.user("stale")], expected_version=2)
    result = first.append_messages(CTX, session_id, [Message.user("fresh")], expected_version=4)

    assert result.session.version == 5


def test_an_update_that_looks_unchanged_on_a_stale_cache_is_still_recorded(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    session_id = _stale_session(ledgers)
    second.update_session(CTX, session_id, SessionUpdate(title="theirs"))

    state = first.update_session(CTX, session_id, SessionUpdate(title="mine"))

    assert state.title == "mine" and state.version == 6
    assert second.get_session("t1", session_id).title == "mine"


def test_a_result_read_after_the_cached_session_moved_on_still_shows_its_own_version(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    session_id = str(first.create_session(CTX, title="mine").id)
    result = first.append_messages(CTX, session_id, [Message.user("one")])
    second.append_messages(CTX, session_id, [Message.user("two")])
    second.update_session(CTX, session_id, SessionUpdate(title="theirs"))
    # Reading brings the first ledger's cached session (the one its append left there)
    # up to date, in place.
    assert first.get_session("t1", session_id).version == 4

    assert (result.session.version, result.session.message_count) == (2, 1)
    assert result.session.title == "mine"
    assert [(e.version, e.message.text) for e in result.messages] == [(2, "one")]
