"""Event classes keep stable, explicit topics; stored rows name them."""

from __future__ import annotations

from eventsourcing.utils import get_topic, resolve_topic

from adapters.bootstrap import open_ledger
from domain.context import CommandContext
from domain.message import Message
from domain.session import Session, session_event_classes

SESSION_EVENTS = [
    Session.Created,
    Session.Forked,
    Session.Merged,
    Session.MergedInto,
    Session.Summarized,
    Session.MessageAppended,
    Session.SituationUpdated,
    Session.TitleChanged,
    Session.MetadataUpdated,
    Session.ContextUpdated,
    Session.HistoryCleared,
    Session.CompletionRecorded,
    Session.CompletionFailed,
    Session.SuggestionsRecorded,
    Session.Deleted,
    Session.ContentErased,
    Session.MessageRedacted,
]


def test_the_list_of_session_events_is_complete() -> None:
    assert set(session_event_classes()) == set(SESSION_EVENTS)


def test_every_session_event_has_an_explicit_topic_that_resolves_to_it() -> None:
    for cls in SESSION_EVENTS:
        topic = get_topic(cls)
        assert topic == f"chatledger.Session.{cls.__name__}"
        assert resolve_topic(topic) is cls


def test_stored_events_carry_the_explicit_topics() -> None:
    ledger = open_ledger(database_url="memory://")
    ctx = CommandContext(tenant_id="t", actor="a")
    session = ledger.create_session(ctx)
    ledger.append_messages(ctx, session.id, [Message.user("x")])

    stored = ledger.engine.recorder.select_notifications(start=1, limit=10)

    assert [n.topic for n in stored] == [
        "chatledger.Session.Created",
        "chatledger.Session.MessageAppended",
    ]
    ledger.close()
