"""Given/when/then on the session commands, over the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import (
    EmptyMessageError,
    InvalidInputError,
    InvalidTextError,
    MessageTooLargeError,
    SessionDeletedError,
    SessionNotFoundError,
    VersionConflictError,
)
from domain.message import Message
from domain.session import Session

CTX = CommandContext(tenant_id="t1", actor="alice", correlation_id="corr-1", trace_id="trace-1")


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    ledger = open_ledger(database_url="memory://", max_message_bytes=2000)
    yield ledger
    ledger.close()


def event_types(ledger: Ledger, session_id: object) -> list[str]:
    return [type(e).__name__ for e in ledger.list_events("t1", str(session_id)).data]


def test_created_carries_the_whole_initial_state_and_who_asked(ledger: Ledger) -> None:
    session = ledger.create_session(
        CTX,
        title="Trip",
        user_id="u1",
        agent_id="a1",
        situation="You plan trips.",
        context={"city": "Oslo"},
        metadata={"env": "prod"},
        render_templates=True,
    )

    (created,) = ledger.list_events("t1", session.id).data
    assert isinstance(created, Session.Created)
    assert (created.title, created.user_id, created.agent_id) == ("Trip", "u1", "a1")
    assert created.situation == "You plan trips."
    assert created.context == {"city": "Oslo"} and created.metadata == {"env": "prod"}
    assert created.render_templates is True
    assert (created.tenant_id, created.actor) == ("t1", "alice")
    assert (created.correlation_id, created.trace_id) == ("corr-1", "trace-1")


def test_appended_messages_get_ids_and_consecutive_versions(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="x")

    result = ledger.append_messages(CTX, session.id, [Message.user("hi"), Message.assistant("yo")])

    assert [m.version for m in result.messages] == [2, 3]
    assert all(m.message.id for m in result.messages)
    assert len({m.message.id for m in result.messages}) == 2
    assert result.session.message_count == 2
    assert event_types(ledger, session.id) == ["Created", "MessageAppended", "MessageAppended"]


def test_appending_to_a_deleted_session_is_refused(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="x")
    ledger.delete_session(CTX, session.id)

    with pytest.raises(SessionDeletedError):
        ledger.append_messages(CTX, session.id, [Message.user("still there?")])


def test_a_message_without_content_is_refused(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)

    with pytest.raises(EmptyMessageError):
        ledger.append_messages(CTX, session.id, [Message(role="user", content=[])])
    with pytest.raises(EmptyMessageError):
        ledger.append_messages(CTX, session.id, [])


def test_another_tenants_session_is_not_found(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="secret")
    intruder = CommandContext(tenant_id="t2", actor="mallory")

    with pytest.raises(SessionNotFoundError):
        ledger.get_session("t2", session.id)
    with pytest.raises(SessionNotFoundError):
        ledger.append_messages(intruder, session.id, [Message.user("hi")])
    with pytest.raises(SessionNotFoundError):
        ledger.list_events("t2", session.id)
    assert ledger.get_session("t1", session.id).version == 1


def test_an_unknown_or_malformed_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(SessionNotFoundError):
        ledger.get_session("t1", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(SessionNotFoundError):
        ledger.get_session("t1", "not-a-uuid")


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user("one")], expected_version=1)

    with pytest.raises(VersionConflictError) as raised:
        ledger.append_messages(CTX, session.id, [Message.user("two")], expected_version=1)

    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert ledger.get_session("t1", session.id).version == 2


def test_metadata_merges_as_json_merge_patch_or_is_overwritten(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, metadata={"a": {"x": 1, "y": 2}, "b": 1, "c": [1, 2]})

    merged = ledger.update_session(
        CTX, session.id, SessionUpdate(metadata={"a": {"y": None, "z": 3}, "b": None, "c": [3]})
    )
    assert merged.metadata == {"a": {"x": 1, "z": 3}, "c": [3]}

    overwritten = ledger.update_session(
        CTX, session.id, SessionUpdate(metadata={"only": True}), mode="overwrite"
    )
    assert overwritten.metadata == {"only": True}
    assert overwritten.title == "" and overwritten.context == {}
    (event,) = [e for e in ledger.list_events("t1", session.id).data if e.originator_version == 3]
    assert isinstance(event, Session.MetadataUpdated) and event.mode == "overwrite"


def test_an_update_that_changes_nothing_records_nothing(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="same", metadata={"k": 1})

    after = ledger.update_session(CTX, session.id, SessionUpdate(title="same", metadata={"k": 1}))

    assert after.version == 1


def test_nul_characters_and_lone_surrogates_are_refused_and_nothing_is_written(
    ledger: Ledger,
) -> None:
    session = ledger.create_session(CTX)
    bad_inputs = [
        lambda: ledger.append_messages(CTX, session.id, [Message.user("a\x00b")]),
        lambda: ledger.append_messages(CTX, session.id, [Message.user("\ud800")]),
        lambda: ledger.update_session(CTX, session.id, SessionUpdate(title="x\x00")),
        lambda: ledger.update_session(CTX, session.id, SessionUpdate(metadata={"k\ud800": 1})),
        lambda: ledger.update_session(CTX, session.id, SessionUpdate(context={"k": ["\x00"]})),
        lambda: ledger.create_session(CTX, situation="\udfff"),
    ]
    for bad in bad_inputs:
        with pytest.raises(InvalidTextError):
            bad()
    assert ledger.get_session("t1", session.id).version == 1


def test_a_refused_value_is_named_by_its_path_and_nothing_is_written(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    fine = Message.user("fine")
    cases = [
        (
            Message.user("ascii", metadata={"a": [1, {"b": "x\x00"}]}),
            InvalidTextError,
            "messages[1].metadata.a[1].b: contains a NUL character at offset 1",
        ),
        (
            Message.user("ünïcode\x00"),
            InvalidTextError,
            "messages[1].content[0].text: contains a NUL character at offset 7",
        ),
        (
            Message.user("ok", metadata={"ünï\ud800": 1}),
            InvalidTextError,
            "messages[1].metadata.ünï\\ud800: contains a lone surrogate at offset 3",
        ),
        (
            Message.user("ok", metadata={"n": [2**64]}),
            InvalidInputError,
            "messages[1].metadata.n[0]: is an integer beyond 64 bits",
        ),
        (
            Message.user("ok", metadata={"f": float("nan")}),
            InvalidInputError,
            "messages[1].metadata.f: is not a finite number",
        ),
    ]
    for bad, error, text in cases:
        with pytest.raises(error) as raised:
            ledger.append_messages(CTX, session.id, [fine, bad])
        assert str(raised.value) == text
    assert ledger.get_session("t1", session.id).version == 1


def test_metadata_and_context_must_be_json_objects(ledger: Ledger) -> None:
    with pytest.raises(InvalidInputError) as raised:
        ledger.create_session(CTX, metadata=["not", "an", "object"])  # type: ignore[arg-type]
    assert raised.value.field == "metadata"


def test_a_message_over_the_size_limit_is_refused(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)

    with pytest.raises(MessageTooLargeError) as raised:
        ledger.append_messages(CTX, session.id, [Message.user("x" * 5000)])

    assert raised.value.limit == 2000
    assert ledger.get_session("t1", session.id).version == 1


def test_clearing_the_history_empties_it_while_time_travel_still_reaches_it(
    ledger: Ledger,
) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user("before")])
    cleared = ledger.clear_history(CTX, session.id)
    ledger.append_messages(CTX, session.id, [Message.user("after")])

    assert [e.message.text for e in ledger.list_messages("t1", session.id).data] == ["after"]
    assert cleared.message_count == 0
    before = ledger.get_state("t1", session.id, version=2)
    assert [e.message.text for e in before.messages] == ["before"]
    assert ledger.get_state("t1", session.id, version=3).messages == []


def test_a_deleted_session_is_gone_but_its_events_and_past_remain(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="x")
    ledger.append_messages(CTX, session.id, [Message.user("hi")])
    ledger.delete_session(CTX, session.id)

    with pytest.raises(SessionDeletedError):
        ledger.get_session("t1", session.id)
    assert event_types(ledger, session.id)[-1] == "Deleted"
    assert ledger.get_state("t1", session.id, version=2).messages[0].message.text == "hi"
