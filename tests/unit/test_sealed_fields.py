"""Every session event says which of its fields are the user's content: a field is either
sealed or on the reviewed list of what stays in the clear, so a new event class or field
cannot slip into the log unsealed without someone deciding so here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domain.context import CommandContext
from domain.sealing import Sealed, with_placeholders
from domain.session import Session, session_event_classes

ENVELOPE = {
    "originator_id",
    "originator_version",
    "timestamp",
    "tenant_id",
    "actor",
    "correlation_id",
    "causation_id",
    "trace_id",
}
CREATED_CLEAR = {"originator_topic", "user_id", "agent_id", "render_templates"}
CLEAR: dict[type, set[str]] = {
    Session.Created: CREATED_CLEAR,
    Session.Forked: CREATED_CLEAR
    | {"source_id", "source_version", "source_cleared_at_version", "inherited_messages", "is_copy"},
    Session.Merged: CREATED_CLEAR | {"sources", "policy", "inherited_messages"},
    Session.MergedInto: {"target_id"},
    Session.Summarized: {
        "summary_id",
        "message_ids",
        "from_version",
        "to_version",
        "completion_id",
    },
    Session.MessageAppended: {"message.role", "message.id"},
    Session.SituationUpdated: set(),
    Session.TitleChanged: set(),
    Session.MetadataUpdated: {"mode"},
    Session.ContextUpdated: {"mode"},
    Session.HistoryCleared: set(),
    Session.CompletionRecorded: {
        "completion_id",
        "provider",
        "model",
        "agent_id",
        "settings",
        "manifest.message_ids",
        "manifest.history",
        "manifest.input_message_ids",
        "manifest.tools",
        "manifest.excluded_message_ids",
        "manifest.summarized_message_ids",
        "manifest.summary_ids",
        "reply.usage",
        "reply.response_id",
        "reply.response_model",
        "reply.provider",
        "reply.attempts",
        "reply.trace_id",
        "reply.span_id",
        "latency_ms",
        "time_to_first_token_ms",
        "streamed",
        "remember",
        "idempotency_key",
        "reply_message_id",
    },
    Session.CompletionFailed: {
        "completion_id",
        "provider",
        "model",
        "agent_id",
        "settings",
        "manifest.message_ids",
        "manifest.history",
        "manifest.input_message_ids",
        "manifest.tools",
        "manifest.excluded_message_ids",
        "manifest.summarized_message_ids",
        "manifest.summary_ids",
        "error_type",
        "attempts",
        "latency_ms",
        "streamed",
        "call_trace_id",
        "call_span_id",
        "idempotency_key",
    },
    Session.SuggestionsRecorded: {"completion_id"},
    Session.Deleted: set(),
    Session.ContentErased: {"reason"},
    Session.MessageRedacted: {"message_id", "reason"},
}
"""Reviewed: what each event keeps in the clear (ids, roles, versions, counts, models,
usage, reason codes). Everything else must be sealed."""

SNAPSHOT_CLEAR = {
    "_pending_events",  # always empty: snapshots are taken of saved aggregates
    "_id",
    "_version",
    "_created_on",
    "_modified_on",
    "tenant_id",
    "user_id",
    "agent_id",
    "render_templates",
    "message_count",
    "messages_total",
    "cleared_at_version",
    "is_deleted",
    "completions_total",
    "summaries_total",
    "merged_into",
}


def sealed_paths(sealed: tuple[Sealed, ...]) -> set[str]:
    return {path for spec in sealed for path in spec.placeholders}


def unclassified(
    model: type[BaseModel], clear: set[str], sealed: set[str], prefix: str = ""
) -> set[str]:
    """Fields of `model` (nested ones by dotted path) neither sealed nor reviewed as clear."""
    missing = set()
    for name, info in model.model_fields.items():
        path = prefix + name
        if path in sealed or path in clear or (not prefix and name in ENVELOPE):
            continue
        nested = info.annotation
        if any(s.startswith(path + ".") for s in sealed | clear) and isinstance(nested, type):
            missing |= unclassified(nested, clear, sealed, path + ".")
        else:
            missing.add(path)
    return missing


def test_every_session_event_class_declares_its_sealed_fields() -> None:
    assert set(session_event_classes()) == set(CLEAR)
    for cls in session_event_classes():
        assert "sealed" in vars(cls), f"{cls.__qualname__} does not declare `sealed`"


def test_every_field_of_every_session_event_is_sealed_or_reviewed_as_clear() -> None:
    for cls in session_event_classes():
        sealed = sealed_paths(cls.sealed)
        assert not unclassified(cls, CLEAR[cls], sealed), cls.__qualname__
        assert not sealed & CLEAR[cls], cls.__qualname__


def test_every_field_of_a_session_snapshot_is_sealed_or_reviewed_as_clear() -> None:
    session = Session.create(CommandContext(tenant_id="t", actor="a"), title="x")
    session.collect_events()
    state = Session.Snapshot.take(session).state
    sealed = {path.removeprefix("state.") for path in sealed_paths(Session.snapshot_sealed)}

    assert set(state) - SNAPSHOT_CLEAR == sealed


def test_placeholders_make_valid_events() -> None:
    ctx = CommandContext(tenant_id="t", actor="a")
    session = Session.create(ctx, title="x", situation="s", metadata={"k": "v"})
    events: list[Any] = list(session.collect_events())
    for event in events:
        state = event.model_dump(mode="json")
        for spec in type(event).sealed:
            with_placeholders(state, spec, "[erased]")
        rebuilt = type(event).model_validate(state)
        assert rebuilt.title == "[erased]" and rebuilt.metadata == {}
