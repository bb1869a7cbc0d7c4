"""Maintenance on one tenant leaves every other tenant's bytes alone (reliability plan I6,
the Marten #5234 regression): erasing, redacting and rebuilding views for tenant A changes
nothing of tenant B's chain heads, stored events or views, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.message import Message
from projections.session_list import SessionQuery

A = CommandContext(tenant_id="A", actor="admin-a")
B = CommandContext(tenant_id="B", actor="member-b")


def fill(ledger: Ledger, ctx: CommandContext, count: int) -> list[str]:
    ids = []
    for n in range(count):
        session = ledger.create_session(ctx, title=f"{ctx.tenant_id} {n}", metadata={"n": n})
        ledger.append_messages(
            ctx,
            session.id,
            [Message.user(f"{ctx.tenant_id} question {n}"), Message.assistant(f"answer {n}")],
        )
        ids.append(str(session.id))
    return ids


def tenant_b(ledger: Ledger, ids: list[str]) -> dict[str, Any]:
    """Everything tenant B can be seen to hold: chain heads, stored bytes and views."""
    streams = ledger.digest(tenant_id="B")["streams"]
    stored = {
        sid: [
            (e.originator_version, e.topic, bytes(e.state))
            for e in ledger.engine.recorder.select_events(UUID(sid))
        ]
        for sid in ids
    }
    listed = ledger.list_sessions(SessionQuery(tenant_id="B", limit=100)).data
    history = {
        sid: [(m.version, m.message) for m in ledger.list_messages("B", sid, limit=100).data]
        for sid in ids
    }
    return {"streams": streams, "stored": stored, "listed": listed, "history": history}


def test_erasing_redacting_and_rebuilding_for_a_leave_b_unchanged(ledger: Ledger) -> None:
    a_ids = fill(ledger, A, 3)
    b_ids = fill(ledger, B, 3)
    before = tenant_b(ledger, b_ids)

    ledger.erase_session(A, a_ids[0])
    question = ledger.get_state("A", a_ids[1]).messages[0].message
    ledger.redact_message(A, a_ids[1], str(question.id))
    for status in ledger.projection_status():
        ledger.rebuild_projection(status.name)

    assert tenant_b(ledger, b_ids) == before
    assert ledger.verify().intact
    assert ledger.get_state("A", a_ids[2]).messages[0].message.text == "A question 2"
