"""The session list and history views, the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.persistence.sql_history import SqlHistoryView
from adapters.settings import Settings
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import SessionDeletedError, SessionNotFoundError
from domain.message import Message
from projections.audit import AuditQuery
from projections.session_list import SessionQuery

CTX = CommandContext(tenant_id="t1", actor="alice")


def listed(ledger: Ledger, **query: Any) -> list[str]:
    return [s.title for s in ledger.list_sessions(SessionQuery(tenant_id="t1", **query)).data]


def test_the_list_is_ordered_by_last_update_and_scoped_to_the_tenant(ledger: Ledger) -> None:
    first = ledger.create_session(CTX, title="first")
    ledger.create_session(CTX, title="second")
    ledger.create_session(CommandContext(tenant_id="t2", actor="bob"), title="foreign")
    ledger.append_messages(CTX, first.id, [Message.user("bump")])

    assert listed(ledger) == ["first", "second"]
    assert listed(ledger, order="asc") == ["second", "first"]
    (row,) = [
        s for s in ledger.list_sessions(SessionQuery(tenant_id="t1")).data if s.title == "first"
    ]
    assert (row.message_count, row.version, row.status) == (1, 2, "active")


def test_the_list_filters_by_user_agent_and_metadata_containment(ledger: Ledger) -> None:
    ledger.create_session(
        CTX,
        title="a",
        user_id="u1",
        agent_id="x",
        metadata={"env": "prod", "tags": ["red", "blue"]},
    )
    ledger.create_session(
        CTX,
        title="b",
        user_id="u2",
        agent_id="x",
        metadata={"env": "dev", "team": {"id": 7, "n": 2}},
    )

    assert listed(ledger, user_id="u1") == ["a"]
    assert sorted(listed(ledger, agent_id="x")) == ["a", "b"]
    assert listed(ledger, metadata_filter={"env": "prod"}) == ["a"]
    assert listed(ledger, metadata_filter={"tags": ["blue"]}) == ["a"]
    assert listed(ledger, metadata_filter={"team": {"id": 7}}) == ["b"]
    assert listed(ledger, metadata_filter={"env": "prod", "user": "nobody"}) == []


def test_metadata_updates_are_reflected_in_filters(ledger: Ledger) -> None:
    session = ledger.create_session(CTX, title="s", metadata={"stage": "draft"})

    ledger.update_session(CTX, session.id, SessionUpdate(metadata={"stage": "final"}))

    assert listed(ledger, metadata_filter={"stage": "draft"}) == []
    assert listed(ledger, metadata_filter={"stage": "final"}) == ["s"]


def test_deleted_sessions_leave_the_list_unless_asked_for(ledger: Ledger) -> None:
    kept = ledger.create_session(CTX, title="kept")
    gone = ledger.create_session(CTX, title="gone")
    ledger.delete_session(CTX, gone.id)

    assert listed(ledger) == ["kept"]
    assert sorted(listed(ledger, include_deleted=True)) == ["gone", "kept"]
    assert kept.id != gone.id


def test_cursor_paging_visits_every_session_once(ledger: Ledger) -> None:
    titles = {f"s{i:02d}" for i in range(23)}
    for title in sorted(titles):
        ledger.create_session(CTX, title=title)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = ledger.list_sessions(SessionQuery(tenant_id="t1", limit=10, cursor=cursor))
        seen += [s.title for s in page.data]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(titles) and len(seen) == len(titles)
    assert listed(ledger, limit=5, offset=20, order="asc") == ["s20", "s21", "s22"]


def test_the_history_pages_by_cursor_and_offset_in_both_orders(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user(f"m{i}") for i in range(25)])

    texts: list[str] = []
    cursor = None
    while True:
        page = ledger.list_messages("t1", session.id, limit=10, cursor=cursor)
        texts += [e.message.text for e in page.data]
        if (cursor := page.next_cursor) is None:
            break
    assert texts == [f"m{i}" for i in range(25)]
    newest = ledger.list_messages("t1", session.id, limit=3, order="desc").data
    assert [e.message.text for e in newest] == ["m24", "m23", "m22"]
    middle = ledger.list_messages("t1", session.id, limit=2, offset=10).data
    assert [e.message.text for e in middle] == ["m10", "m11"]


def test_a_page_shows_the_messages_since_the_last_clear_of_a_live_session_of_the_tenant(
    ledger: Ledger,
) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user("before")])
    ledger.clear_history(CTX, session.id)
    ledger.append_messages(CTX, session.id, [Message.user("after")])

    assert texts(ledger, session.id) == ["after"]
    with pytest.raises(SessionNotFoundError):
        ledger.list_messages("t2", session.id)
    ledger.delete_session(CTX, session.id)
    with pytest.raises(SessionDeletedError):
        ledger.list_messages("t1", session.id)


def test_sessions_recorded_before_the_view_kept_them_are_checked_by_the_engine(
    ledger: Ledger,
) -> None:
    session = ledger.create_session(CTX)
    ledger.append_messages(CTX, session.id, [Message.user("before")])
    ledger.clear_history(CTX, session.id)
    ledger.append_messages(CTX, session.id, [Message.user("after")])
    view = ledger.views.history
    assert isinstance(view, SqlHistoryView)
    with ledger.runner.store.transaction(commit=True) as cursor:  # as an older database
        cursor.execute(
            view.d.sql(f"DELETE FROM {view.sessions} WHERE session_id = ?"), (str(session.id),)
        )

    assert texts(ledger, session.id) == ["after"]
    with pytest.raises(SessionNotFoundError):
        ledger.list_messages("t2", session.id)
    ledger.delete_session(CTX, session.id)
    with pytest.raises(SessionDeletedError):
        ledger.list_messages("t1", session.id)


def texts(ledger: Ledger, session_id: Any) -> list[str]:
    return [e.message.text for e in ledger.list_messages("t1", session_id).data]


def test_content_blocks_and_serialiser_shaped_dicts_round_trip(
    ledger: Ledger, database_url: str
) -> None:
    tricky = {"_type_": "datetime_iso", "_data_": "not a date"}
    session = ledger.create_session(CTX, metadata=tricky, context={"nested": tricky})
    message = Message.model_validate(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "see image", "citations": [{"cited_text": "x"}]},
                {"type": "image", "source": {"kind": "url", "url": "https://example.com/a.png"}},
            ],
            "metadata": tricky,
        }
    )
    ledger.append_messages(CTX, session.id, [message])

    reopened = open_ledger(Settings(database_url=database_url))
    try:
        state = reopened.get_state("t1", session.id)
        assert state.session.metadata == tricky and state.session.context == {"nested": tricky}
        (entry,) = state.messages
        assert entry.message.content == message.content
        assert entry.message.metadata == tricky
        assert reopened.list_sessions(SessionQuery(tenant_id="t1")).data[0].metadata == tricky
    finally:
        reopened.close()


def test_a_rebuilt_view_equals_the_live_one(ledger: Ledger) -> None:
    for i in range(4):
        session = ledger.create_session(CTX, title=f"s{i}", metadata={"i": i})
        ledger.append_messages(CTX, session.id, [Message.user(f"{i}-{j}") for j in range(3)])
        if i % 2:
            ledger.update_session(CTX, session.id, SessionUpdate(title=f"renamed {i}"))
        if i == 3:
            ledger.clear_history(CTX, session.id)
            ledger.delete_session(CTX, session.id)
    query = SessionQuery(tenant_id="t1", include_deleted=True, limit=100)
    live_list = ledger.list_sessions(query).data
    live_history = {s.id: ledger.list_messages("t1", s.id).data for s in live_list[1:]}

    for name in ("session_list", "history"):
        assert ledger.rebuild_projection(name) > 0

    assert ledger.list_sessions(query).data == live_list
    assert {s.id: ledger.list_messages("t1", s.id).data for s in live_list[1:]} == live_history
    assert all(status.lag == 0 for status in ledger.projection_status())


def test_views_fed_in_batches_equal_views_fed_one_write_at_a_time(ledger: Ledger) -> None:
    # Several messages per write, and sessions interleaved in the log: a rebuild reads
    # them in one batch, where runs of one session's messages are written together.
    a = ledger.create_session(CTX, title="a", messages=[Message.user("a0"), Message.user("a1")])
    b = ledger.create_session(CTX, title="b")
    ledger.append_messages(CTX, b.id, [Message.user("b0")])
    ledger.append_messages(CTX, a.id, [Message.user(f"a{j}") for j in range(2, 6)])
    ledger.append_messages(CTX, b.id, [Message.user("b1"), Message.user("b2")])
    ledger.update_session(CTX, a.id, SessionUpdate(title="a renamed"))
    ledger.append_messages(CTX, a.id, [Message.user("a6")])
    ledger.clear_history(CTX, b.id)
    ledger.append_messages(CTX, b.id, [Message.user("b3"), Message.user("b4")])
    query = SessionQuery(tenant_id="t1", limit=100)
    live_list = ledger.list_sessions(query).data
    live_history = {s.id: ledger.list_messages("t1", s.id).data for s in live_list}
    live_audit = list(ledger.iter_audit(AuditQuery(tenant_id="t1")))

    for name in ("session_list", "history", "audit"):
        assert ledger.rebuild_projection(name) > 0

    rows = {s.title: (s.message_count, s.version) for s in ledger.list_sessions(query).data}
    assert rows == {"a renamed": (7, 9), "b": (2, 7)}
    assert ledger.list_sessions(query).data == live_list
    assert {s.id: ledger.list_messages("t1", s.id).data for s in live_list} == live_history
    assert [m.message.text for m in live_history[str(a.id)]] == [f"a{j}" for j in range(7)]
    assert list(ledger.iter_audit(AuditQuery(tenant_id="t1"))) == live_audit
    assert len(live_audit) == 16


def test_views_fed_by_a_worker_catch_up_and_commands_wait_for_them(database_url: str) -> None:
    writer = open_ledger(Settings(database_url=database_url, projections="external"))
    worker = open_ledger(Settings(database_url=database_url, projections="external"))
    try:
        session = writer.engine.create_session(CTX, title="later")
        assert writer.list_sessions(SessionQuery(tenant_id="t1")).data == []
        assert {s.lag for s in writer.projection_status()} == {1}

        assert worker.catch_up() > 0

        assert listed(writer) == ["later"]
        assert {s.lag for s in writer.projection_status()} == {0}
        assert session.position is not None
    finally:
        writer.close()
        worker.close()
