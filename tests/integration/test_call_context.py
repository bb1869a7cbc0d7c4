"""A recorded call's exact context (`Ledger.call_context`), on both backends: what it
resolves to is what the provider was sent on the wire, and the record of a call stays the
same size as the conversation grows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from adapters.call_context import CallContext
from adapters.ledger import Ledger
from adapters.llm.wire import build_invocation
from domain.content import TextBlock
from domain.context import CommandContext
from domain.errors import CompletionNotFoundError, ProviderError, SessionNotFoundError
from domain.llm import Candidate, ChatReply, ChatRequest
from domain.message import Message
from domain.session import ContextManifest, Session
from domain.turns import PreparedTurn
from tests.support.fake_provider import FakeProvider
from tests.support.fake_provider_script import Fail, Reply

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def ledger(chat_ledger: Ledger) -> Ledger:
    return chat_ledger


def on_the_wire(context: CallContext) -> list[dict[str, Any]]:
    """The messages an OpenAI body built from the resolved context holds."""
    request = ChatRequest(
        model=context.model,
        system=context.system,
        messages=context.messages,
        settings=context.settings,
    )
    messages: list[dict[str, Any]] = build_invocation("openai", request)["messages"]
    return messages


def completions(ledger: Ledger, session_id: str | UUID) -> list[Session.CompletionRecorded]:
    events = ledger.list_events("t1", session_id, limit=1000).data
    return [e for e in events if isinstance(e, Session.CompletionRecorded)]


def test_each_turns_context_is_what_the_provider_was_sent(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX, situation="Be brief.")
    results = []
    for i in range(4):
        fake_provider.script(Reply(text=f"answer {i}"))
        results.append(ledger.chat(CTX, session.id, f"question {i}"))

    for result, received in zip(results, fake_provider.requests, strict=True):
        context = ledger.call_context("t1", session.id, result.completion_id)
        assert on_the_wire(context) == received.body["messages"]
        assert context.message_ids == [m.id for m in context.messages]
        assert context.message_ids[-1] == result.user_message_id
        assert context.missing_message_ids == [] and context.system == "Be brief."
    last = ledger.call_context("t1", session.id, results[-1].completion_id)
    history = ledger.list_messages("t1", session.id, limit=100).data
    assert last.message_ids == [e.message.id for e in history[:-1]]  # all but the last reply


def test_a_turns_record_does_not_grow_with_the_history(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    for i in range(30):
        fake_provider.script(Reply(text=f"answer {i}"))
        ledger.chat(CTX, session.id, f"question {i}")

    manifests = [c.manifest for c in completions(ledger, session.id)]
    sizes = [len(m.model_dump_json()) for m in manifests]
    # 58 more history messages at the last turn than at the second; each id is 34 bytes of
    # JSON, so a list of ids would have grown by ~2,000 bytes. Only the numbers' digits grow.
    assert sizes[-1] - sizes[1] <= 4
    window = manifests[-1].history
    assert window is not None and (window.length, window.sent) == (58, [(0, 58)])
    assert len(manifests[-1].message_ids) == 1


def test_a_forks_turn_resolves_the_inherited_messages(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    source = ledger.create_session(CTX)
    for i in range(3):
        fake_provider.script(Reply(text=f"answer {i}"))
        ledger.chat(CTX, source.id, f"question {i}")
    fork = ledger.fork_session(CTX, source.id, at_version=7)  # after the second turn
    ledger.append_messages(CTX, fork.id, [Message.user("a note on the fork")])
    fake_provider.script(Reply(text="fork answer"))

    result = ledger.chat(CTX, fork.id, "and on the fork?")

    context = ledger.call_context("t1", fork.id, result.completion_id)
    assert on_the_wire(context) == fake_provider.last_request.body["messages"]
    assert [m.text for m in context.messages] == [
        "question 0",
        "answer 0",
        "question 1",
        "answer 1",
        "a note on the fork",
        "and on the fork?",
    ]


def test_after_a_clear_the_context_is_the_history_the_turn_saw(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="before"), Reply(text="after"))
    first = ledger.chat(CTX, session.id, "one")
    ledger.clear_history(CTX, session.id)
    second = ledger.chat(CTX, session.id, "two")

    assert [
        m.text for m in ledger.call_context("t1", session.id, second.completion_id).messages
    ] == ["two"]
    # the first call's context is as it was, though the clear emptied the history since
    assert [
        m.text for m in ledger.call_context("t1", session.id, first.completion_id).messages
    ] == ["one"]


def test_a_failed_calls_context_holds_the_input_that_never_entered_the_history(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="fine"), Fail(status=400, message="bad request"))
    ledger.chat(CTX, session.id, "first")
    with pytest.raises(ProviderError):
        ledger.chat(CTX, session.id, "second")
    events = ledger.list_events("t1", session.id, limit=100).data
    (failed,) = [e for e in events if isinstance(e, Session.CompletionFailed)]

    context = ledger.call_context("t1", session.id, failed.completion_id)

    assert context.status == "failed"
    assert on_the_wire(context) == fake_provider.last_request.body["messages"]
    assert [m.text for m in context.messages] == ["first", "fine", "second"]


def test_a_call_recorded_with_every_id_listed_resolves_too(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    """Calls recorded before windows (and calls recorded from elsewhere) list every id."""
    session = ledger.create_session(CTX)
    appended = ledger.append_messages(
        CTX, session.id, [Message.user("hello"), Message.assistant("hi"), Message.user("and now?")]
    ).messages
    ids = [e.message.id or "" for e in appended]
    prepared = PreparedTurn(
        provider="openai",
        request=ChatRequest(model="gpt-x", messages=[e.message for e in appended]),
        manifest=ContextManifest(message_ids=ids),
        input_messages=[],
        agent_id=None,
        remember=True,
    )
    ledger.record_turn(
        CTX,
        session.id,
        prepared,
        ChatReply(candidates=[Candidate(content=[TextBlock(text="fine")])], provider="openai"),
        completion_id="c1",
        latency_ms=1.0,
    )

    context = ledger.call_context("t1", session.id, "c1")

    assert context.history is None and context.message_ids == ids
    assert [m.text for m in context.messages] == ["hello", "hi", "and now?"]


def test_an_unknown_call_or_another_tenants_session_is_not_found(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="ok"))
    result = ledger.chat(CTX, session.id, "hello")

    with pytest.raises(CompletionNotFoundError):
        ledger.call_context("t1", session.id, "no-such-call")
    with pytest.raises(SessionNotFoundError):
        ledger.call_context("t2", session.id, result.completion_id)
