"""The audit view on SQLite and PostgreSQL: per tenant, filters, paging, exports, rebuild."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import pytest

from adapters.audit_export import COLUMNS, audit_record
from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.base import Aggregate, AttributedEvent
from domain.context import CommandContext
from domain.errors import InvalidInputError
from domain.message import Message
from projections.audit import AuditEntry, AuditQuery

ALICE = CommandContext(tenant_id="t1", actor="alice", trace_id="a" * 32)
BOB = CommandContext(tenant_id="t1", actor="bob", causation_id="cause-1")
CAROL = CommandContext(tenant_id="t2", actor="carol")


class Widget(Aggregate):
    """An aggregate the audit view has never heard of, with a session named in its event."""

    TOPIC: ClassVar[str] = "chatledger.Widget"

    class Event(AttributedEvent):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "chatledger.Widget.Created"
        session_id: str

    def __init__(self, *, tenant_id: str, session_id: str) -> None:
        self.tenant_id = tenant_id
        self.session_id = session_id


@pytest.fixture
def trail(ledger: Ledger) -> dict[str, Any]:
    """Two tenants; in t1 alice and bob write a session and an agent, carol writes in t2."""
    first = ledger.create_session(ALICE, title="Oslo")
    ledger.append_messages(ALICE, first.id, [Message.user("secret plans"), Message.user("x")])
    ledger.append_messages(BOB, first.id, [Message.assistant("a reply")])
    agent = ledger.create_agent(BOB, AgentFields(name="helper"))
    second = ledger.create_session(BOB, title="Bergen")
    other = ledger.create_session(CAROL, title="Elsewhere")
    ledger.append_messages(CAROL, other.id, [Message.user("theirs")])
    return {"first": str(first.id), "second": str(second.id), "agent": str(agent.id)}


def everything(ledger: Ledger, **filters: Any) -> list[AuditEntry]:
    return list(ledger.iter_audit(AuditQuery(**{"tenant_id": "t1", **filters})))


def test_each_tenant_sees_only_its_own_events_in_log_order(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    mine = everything(ledger)
    theirs = everything(ledger, tenant_id="t2")

    assert [(e.type, e.actor) for e in mine] == [
        ("Session.Created", "alice"),
        ("Session.MessageAppended", "alice"),
        ("Session.MessageAppended", "alice"),
        ("Session.MessageAppended", "bob"),
        ("Agent.Created", "bob"),
        ("Session.Created", "bob"),
    ]
    assert [(e.type, e.actor, e.tenant_id) for e in theirs] == [
        ("Session.Created", "carol", "t2"),
        ("Session.MessageAppended", "carol", "t2"),
    ]
    positions = [e.position for e in mine]
    assert positions == sorted(positions)
    assert not set(positions) & {e.position for e in theirs}


def test_an_entry_carries_the_envelope_and_the_stream_but_no_content(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    first, _, _, bobs, agent, _ = everything(ledger)

    assert (first.stream_kind, first.stream_id, first.session_id) == (
        "Session",
        trail["first"],
        trail["first"],
    )
    assert (first.version, first.trace_id, first.causation_id) == (1, "a" * 32, None)
    assert bobs.version == 4 and bobs.causation_id == "cause-1" and bobs.correlation_id
    assert (agent.stream_kind, agent.stream_id, agent.session_id) == ("Agent", trail["agent"], None)
    assert "secret plans" not in json.dumps([audit_record(e) for e in everything(ledger)])


def test_filters_by_actor_session_exact_type_and_type_prefix(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    assert {e.actor for e in everything(ledger, actor="bob")} == {"bob"}
    assert len(everything(ledger, actor="bob")) == 3
    assert {e.session_id for e in everything(ledger, session_id=trail["second"])} == {
        trail["second"]
    }
    assert len(everything(ledger, session_id=trail["first"])) == 4
    assert [e.type for e in everything(ledger, type="Session.Created")] == ["Session.Created"] * 2
    assert len(everything(ledger, type="Session.")) == 5
    assert [e.type for e in everything(ledger, type="Agent.")] == ["Agent.Created"]
    assert everything(ledger, type="Session") == []  # no dot: an exact type, which none has
    assert everything(ledger, session_id=trail["first"], actor="carol") == []


def test_filters_by_a_half_open_time_range(ledger: Ledger, trail: dict[str, Any]) -> None:
    entries = everything(ledger)
    third = entries[2].recorded_at

    since = everything(ledger, since=third)
    until = everything(ledger, until=third)

    assert [e.position for e in since] == [e.position for e in entries if e.recorded_at >= third]
    assert [e.position for e in until] == [e.position for e in entries if e.recorded_at < third]
    assert len(since) + len(until) == len(entries)
    later = datetime.now(UTC) + timedelta(days=1)
    assert everything(ledger, since=later) == []
    assert everything(ledger, since=entries[0].recorded_at, until=entries[0].recorded_at) == []


def test_pages_follow_each_other_without_gaps_or_repeats(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = ledger.list_audit(AuditQuery(tenant_id="t1", limit=4, cursor=cursor))
        seen += [e.position for e in page.data]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert pages == 2
    assert seen == [e.position for e in everything(ledger)]


def test_bad_cursors_times_and_page_sizes_are_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        ledger.list_audit(AuditQuery(tenant_id="t1", cursor="not-a-cursor"))
    with pytest.raises(InvalidInputError, match="cursor"):
        ledger.export_audit(AuditQuery(tenant_id="t1", cursor="eyJ4IjoxfQ"), "csv")
    with pytest.raises(InvalidInputError, match="limit"):
        ledger.list_audit(AuditQuery(tenant_id="t1", limit=0))
    with pytest.raises(InvalidInputError, match="since"):
        AuditQuery(tenant_id="t1", since=datetime(2025, 1, 1))


def test_ndjson_and_csv_exports_parse_back_to_the_same_rows(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    records = [audit_record(e) for e in everything(ledger)]

    ndjson = [json.loads(line) for line in ledger.export_audit(AuditQuery("t1"), "ndjson")]
    table = list(csv.DictReader(io.StringIO("".join(ledger.export_audit(AuditQuery("t1"), "csv")))))

    assert ndjson == records
    assert table == [{c: "" if r[c] is None else str(r[c]) for c in COLUMNS} for r in records]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(ledger: Ledger) -> None:
    for actor in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)"):
        ledger.create_session(CommandContext(tenant_id="t3", actor=actor))

    rows = list(csv.DictReader(io.StringIO("".join(ledger.export_audit(AuditQuery("t3"), "csv")))))

    assert [row["actor"] for row in rows] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)"]
    exact = [json.loads(line)["actor"] for line in ledger.export_audit(AuditQuery("t3"), "ndjson")]
    assert exact == ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)"]


def test_events_of_an_aggregate_added_later_appear_without_code_changes(
    ledger: Ledger, trail: dict[str, Any]
) -> None:
    carol_in_t1 = CommandContext(tenant_id="t1", actor="carol")
    widget = Widget._create(
        Widget.Created, session_id=trail["second"], **carol_in_t1.event_fields()
    )
    ledger.engine.save(widget)

    [entry] = everything(ledger, type="Widget.")

    assert (entry.stream_kind, entry.stream_id, entry.session_id, entry.actor) == (
        "Widget",
        str(widget.id),
        trail["second"],
        "carol",
    )
    assert entry in everything(ledger, session_id=trail["second"])


def test_a_rebuilt_audit_equals_the_live_one(ledger: Ledger, trail: dict[str, Any]) -> None:
    live = everything(ledger) + everything(ledger, tenant_id="t2")

    read = ledger.rebuild_projection("audit")

    assert read == len(live)
    assert everything(ledger) + everything(ledger, tenant_id="t2") == live
    status = {s.name: s for s in ledger.projection_status()}
    assert status["audit"].lag == 0


def test_a_database_from_before_the_audit_is_caught_up_on_opening(database_url: str) -> None:
    ledger = open_ledger(database_url=database_url)
    session = ledger.create_session(ALICE)
    with ledger.runner.store.transaction(commit=True) as cursor:
        ledger.views.audit.clear(cursor)
        cursor.execute(
            ledger.runner.store.d.sql(  # type: ignore[attr-defined]
                f"UPDATE {ledger.runner.store.positions} SET position = 0 WHERE name = ?"  # type: ignore[attr-defined]
            ),
            ("audit",),
        )
    ledger.close()

    reopened = open_ledger(database_url=database_url)
    try:
        [entry] = everything(reopened)
        assert entry.session_id == str(session.id)
        assert isinstance(UUID(entry.stream_id), UUID)
    finally:
        reopened.close()
