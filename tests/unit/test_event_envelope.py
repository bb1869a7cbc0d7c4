"""Every event records the same envelope in the same place, so stored bytes never change."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from adapters.persistence.mapper import OrjsonTranscoder, PydanticMapper
from domain.agent import Agent
from domain.session import Session, session_event_classes

ENVELOPE = ["tenant_id", "actor", "correlation_id", "causation_id", "trace_id"]


def test_every_event_has_the_envelope_after_the_base_fields_and_before_its_own() -> None:
    for cls in [*session_event_classes(), Agent.Created, Agent.Updated, Agent.Deleted]:
        names = list(cls.model_fields)
        base = ["originator_id", "originator_version", "timestamp"]
        if "originator_topic" in names:
            base.append("originator_topic")
        assert names[: len(base) + len(ENVELOPE)] == base + ENVELOPE, cls


def test_a_stored_event_keeps_its_bytes() -> None:
    created = Session.Created(
        originator_id=UUID(int=1),
        originator_version=1,
        timestamp=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        originator_topic="chatledger.Session",
        tenant_id="t",
        actor="a",
        correlation_id="c",
        title="x",
        user_id=None,
        agent_id=None,
        situation="",
        context={},
        metadata={},
        render_templates=False,
    )

    stored = PydanticMapper(transcoder=OrjsonTranscoder()).to_stored_event(created)

    assert stored.topic == "chatledger.Session.Created"
    assert stored.state == (
        b'{"timestamp":"2024-01-02T03:04:05Z","originator_topic":"chatledger.Session",'
        b'"tenant_id":"t","actor":"a","correlation_id":"c","causation_id":null,"trace_id":null,'
        b'"title":"x","user_id":null,"agent_id":null,"situation":"","context":{},"metadata":{},'
        b'"render_templates":false}'
    )
