"""Loading a session in one read (`domain.repository.OneReadRepository`), on both backends:
its newest snapshot at or below the version and the events after it, in one statement.
What it builds is the session its events fold to, at every version and at the head."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from adapters.ledger import Ledger
from domain.base import project_events
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import InvalidVersionError
from domain.message import Message
from domain.repository import OneReadRepository, SnapshotReads
from domain.session import SessionState

CTX = CommandContext(tenant_id="t1", actor="someone")


def long_session(ledger: Ledger) -> str:
    """A session of 251 events (a snapshot at every multiple of 20) whose state moves:
    messages, titles, and the offline model's turns (the input, `CompletionRecorded`,
    the reply, `SuggestionsRecorded` and its call's completion)."""
    session_id = str(ledger.create_session(CTX, title="t0").id)
    for i in range(25):
        ledger.append_messages(CTX, session_id, [Message.user(f"m{i}.{j}") for j in range(4)])
        ledger.chat(CTX, session_id, f"question {i}", suggestions=True)
        ledger.update_session(CTX, session_id, SessionUpdate(title=f"t{i + 1}"))
    return session_id


def folded(ledger: Ledger, session_id: str, version: int) -> Any:
    """The session its first `version` events fold to, each event read whole."""
    events = ledger.list_events("t1", session_id, limit=1000).data[:version]
    return project_events(None, events)


def seen(session: Any) -> tuple[Any, ...]:
    """The session as reads show it, and the counters they do not."""
    counters = (session.completions_total, session.messages_total, session.summaries_total)
    return SessionState.of(session), counters


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

    for version, session in expected.items():
        loaded = engine.repository.get(UUID(session_id), version=version)
        assert seen(loaded) == seen(session)
        assert engine.get_state("t1", UUID(session_id), version=version) == seen(session)[0]
    head = second.get_session("t1", session_id)  # not cached by `second`: loaded in one read
    assert head == seen(expected[251])[0] and head.title == "t25" and head.message_count == 150
    assert seen(expected[251])[1][0] == 50  # completions: the turns' and the suggestions'
    with pytest.raises(InvalidVersionError):
        engine.get_state("t1", head.id, version=252)


def test_a_session_loaded_in_one_read_takes_further_writes(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    session_id = long_session(first)

    second.append_messages(CTX, session_id, [Message.user("from the second")])

    assert first.get_session("t1", session_id).message_count == 151
    history = second.list_messages("t1", session_id, limit=1).data
    assert second.get_session("t1", session_id).version == 252
    assert history and history[0].message.text == "m0.0"


def test_rebuilding_a_session_opens_no_message(
    ledgers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages and completions are most of a session's events, and its state reads none
    of their content: rebuilding it decrypts only the events whose `apply` reads theirs."""
    first, second = ledgers
    session_id = long_session(first)
    snapshots = second.engine.snapshots
    assert snapshots is not None
    (snapshot,) = snapshots.get(UUID(session_id), lte=249, desc=True, limit=1)
    past = second.list_events("t1", session_id, after_version=snapshot.originator_version).data
    past = [type(e).__name__ for e in past if e.originator_version <= 249]
    sealer = second.engine.mapper.sealer  # type: ignore[attr-defined]
    opened: list[str] = []
    opening = sealer.open
    monkeypatch.setattr(sealer, "open", lambda *args: opened.append(args[2]) or opening(*args))

    second.engine.repository.get(UUID(session_id), version=249)

    assert "MessageAppended" in past and "CompletionRecorded" in past
    titles = ["chatledger.Session.TitleChanged"] * past.count("TitleChanged")
    assert opened == ["domain.base:AggregateSnapshot", *titles]


def test_a_bulk_write_is_snapshotted_every_20_versions_not_only_at_its_end(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    created = first.create_session(CTX, messages=[Message.user(f"m{i}") for i in range(99)])
    first.append_messages(CTX, created.id, [Message.user(f"n{i}") for i in range(45)])
    snapshots = first.engine.snapshots
    assert snapshots is not None

    versions = [s.originator_version for s in snapshots.get(created.id)]

    assert versions == [20, 40, 60, 80, 100, 120, 140]  # versions 1-100, then 101-145
    for version in (20, 59, 100, 139, 145):
        loaded = second.engine.repository.get(created.id, version=version)
        assert seen(loaded) == seen(folded(first, str(created.id), version))
