"""Fork, copy and merge with provenance, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.errors import InvalidInputError, InvalidVersionError, SessionNotFoundError
from domain.message import Message
from domain.session import Session
from projections.session_list import SessionQuery

CTX = CommandContext(tenant_id="t1", actor="alice")


def texts(ledger: Ledger, session_id: Any) -> list[str]:
    return [e.message.text for e in ledger.list_messages("t1", session_id, limit=1000).data]


def with_messages(ledger: Ledger, title: str, *batches: list[str]) -> Any:
    session = ledger.create_session(CTX, title=title, metadata={"from": title})
    for batch in batches:
        ledger.append_messages(CTX, session.id, [Message.user(t) for t in batch])
    return session


def test_a_fork_has_the_sources_state_and_history_at_that_version_and_goes_its_own_way(
    ledger: Ledger,
) -> None:
    source = with_messages(ledger, "source", ["s1", "s2"], ["s3"])
    fork = ledger.fork_session(CTX, source.id, at_version=3)
    ledger.append_messages(CTX, fork.id, [Message.user("f1")])
    ledger.append_messages(CTX, source.id, [Message.user("s4")])

    assert texts(ledger, fork.id) == ["s1", "s2", "f1"]
    assert texts(ledger, source.id) == ["s1", "s2", "s3", "s4"]
    (forked,) = ledger.list_events("t1", fork.id).data[:1]
    assert isinstance(forked, Session.Forked)
    assert (forked.source_id, forked.source_version) == (str(source.id), 3)
    assert forked.metadata == {"from": "source"} and fork.message_count == 2
    inherited, own = (
        ledger.list_messages("t1", fork.id).data[0],
        ledger.list_messages("t1", fork.id).data[-1],
    )
    assert (inherited.origin_session_id, inherited.origin_version) == (str(source.id), 2)
    assert own.origin_session_id is None and own.session_id == str(fork.id)
    assert [e.message.text for e in ledger.get_state("t1", fork.id, version=1).messages] == [
        "s1",
        "s2",
    ]


def test_a_fork_of_a_fork_keeps_the_first_origin(ledger: Ledger) -> None:
    source = with_messages(ledger, "source", ["s1"])
    fork = ledger.fork_session(CTX, source.id)
    ledger.append_messages(CTX, fork.id, [Message.user("f1")])

    grandchild = ledger.fork_session(CTX, fork.id)

    origins = [
        (e.message.text, e.origin_session_id)
        for e in ledger.list_messages("t1", grandchild.id).data
    ]
    assert origins == [("s1", str(source.id)), ("f1", str(fork.id))]


def test_a_fork_respects_a_clear_before_its_version(ledger: Ledger) -> None:
    source = with_messages(ledger, "source", ["old"])
    ledger.clear_history(CTX, source.id)
    ledger.append_messages(CTX, source.id, [Message.user("new")])

    assert texts(ledger, ledger.fork_session(CTX, source.id).id) == ["new"]


def test_a_copy_is_a_fork_at_the_head(ledger: Ledger) -> None:
    source = with_messages(ledger, "source", ["a", "b"])

    copy = ledger.copy_session(CTX, source.id, title="copy")

    (first,) = ledger.list_events("t1", copy.id).data
    assert isinstance(first, Session.Forked) and first.is_copy and first.source_version == 3
    assert texts(ledger, copy.id) == ["a", "b"] and copy.title == "copy"


def test_forking_outside_the_stream_or_another_tenants_session_is_refused(ledger: Ledger) -> None:
    source = with_messages(ledger, "source", ["a"])

    with pytest.raises(InvalidVersionError):
        ledger.fork_session(CTX, source.id, at_version=5)
    with pytest.raises(SessionNotFoundError):
        ledger.fork_session(CommandContext(tenant_id="t2", actor="x"), source.id)


def test_a_merge_concatenates_or_interleaves_and_marks_every_source(ledger: Ledger) -> None:
    first = with_messages(ledger, "first", ["a1", "a2"])
    second = with_messages(ledger, "second", ["b1"])
    ledger.append_messages(CTX, first.id, [Message.user("a3")])

    concatenated = ledger.merge_sessions(CTX, [first.id, second.id])
    interleaved = ledger.merge_sessions(CTX, [first.id, second.id], policy="interleave")

    assert texts(ledger, concatenated.id) == ["a1", "a2", "a3", "b1"]
    assert texts(ledger, interleaved.id) == ["a1", "a2", "b1", "a3"]
    (merged,) = ledger.list_events("t1", concatenated.id).data
    assert isinstance(merged, Session.Merged) and merged.policy == "concatenate"
    assert [s.session_id for s in merged.sources] == [str(first.id), str(second.id)]
    for source in (first, second):
        marks = [
            e for e in ledger.list_events("t1", source.id).data if isinstance(e, Session.MergedInto)
        ]
        assert [m.target_id for m in marks] == [str(concatenated.id), str(interleaved.id)]
    origins = {e.origin_session_id for e in ledger.list_messages("t1", concatenated.id).data}
    assert origins == {str(first.id), str(second.id)}
    assert concatenated.message_count == 4


def test_a_merge_is_atomic_when_a_source_moved_on(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = with_messages(ledger, "first", ["a1"])
    second = with_messages(ledger, "second", ["b1"])
    stale = ledger.engine.repository.get(second.id)
    ledger.append_messages(CTX, second.id, [Message.user("b2")])
    original_load = ledger.engine._load

    def load_stale(tenant_id: str, session_id: Any) -> Any:
        return stale if session_id == second.id else original_load(tenant_id, session_id)

    monkeypatch.setattr(ledger.engine, "_load", load_stale)
    sessions_before = ledger.list_sessions(SessionQuery(tenant_id="t1")).data

    with pytest.raises(Exception) as raised:
        ledger.merge_sessions(CTX, [first.id, second.id])

    assert raised.type.__name__ in ("VersionConflictError", IntegrityError.__name__)
    monkeypatch.undo()
    assert ledger.list_sessions(SessionQuery(tenant_id="t1")).data == sessions_before
    assert [type(e).__name__ for e in ledger.list_events("t1", first.id).data][-1] != "MergedInto"


def test_a_merge_needs_two_distinct_live_sessions(ledger: Ledger) -> None:
    only = with_messages(ledger, "only", ["x"])

    with pytest.raises(InvalidInputError):
        ledger.merge_sessions(CTX, [only.id])
    with pytest.raises(InvalidInputError):
        ledger.merge_sessions(CTX, [only.id, only.id])


def test_rebuilt_histories_of_forks_and_merges_equal_the_live_ones(ledger: Ledger) -> None:
    first = with_messages(ledger, "first", ["a1", "a2"])
    second = with_messages(ledger, "second", ["b1"])
    fork = ledger.fork_session(CTX, first.id, at_version=2)
    ledger.append_messages(CTX, fork.id, [Message.user("f1")])
    merged = ledger.merge_sessions(CTX, [fork.id, second.id], policy="interleave")
    ids = [first.id, second.id, fork.id, merged.id]
    live = {sid: ledger.list_messages("t1", sid, limit=1000).data for sid in ids}

    ledger.rebuild_projection("history")

    assert {sid: ledger.list_messages("t1", sid, limit=1000).data for sid in ids} == live
