"""Context without loss: summaries stand in for old messages; the originals stay."""

from __future__ import annotations

import pytest

from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.message import Message
from domain.session import Session
from tests.support.fake_provider import FakeProvider
from tests.support.fake_provider_script import Reply

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def ledger(chat_ledger: Ledger) -> Ledger:
    return chat_ledger


def long_session(ledger: Ledger, agent_id: str | None = None) -> str:
    session = ledger.create_session(CTX, agent_id=agent_id, situation="Plan trips.")
    ledger.append_messages(
        CTX, session.id, [Message.user(f"old {i} " + "x" * 400) for i in range(6)]
    )
    return str(session.id)


def test_over_the_limit_the_agent_summarises_once_and_the_prompt_carries_the_summary(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    agent = ledger.create_agent(
        CTX, AgentFields(name="a", provider="openai", context_limit=400, context_policy="summarize")
    )
    session_id = long_session(ledger, str(agent.id))
    fake_provider.script(Reply(text="They discussed old plans."), Reply(text="Here is the plan."))

    ledger.chat(CTX, session_id, "Now plan Oslo.")

    summary_request, turn_request = (r.body for r in fake_provider.requests)
    assert "old 0" in summary_request["messages"][1]["content"]
    system = turn_request["messages"][0]
    assert system["role"] == "system" and "They discussed old plans." in system["content"]
    sent = [m["content"] for m in turn_request["messages"][1:]]
    assert not any(text.startswith("old 0") for text in sent)
    events = ledger.list_events("t1", session_id, limit=100).data
    (summarized,) = [e for e in events if isinstance(e, Session.Summarized)]
    assert summarized.text == "They discussed old plans." and summarized.completion_id
    turn = [e for e in events if isinstance(e, Session.CompletionRecorded)][-1]
    assert turn.manifest.summary_ids == [summarized.summary_id]
    context = ledger.call_context("t1", session_id, turn.completion_id)
    assert context.summarized_message_ids == summarized.message_ids
    assert [m.text for m in context.messages] == sent
    history = ledger.list_messages("t1", session_id, limit=100).data
    assert [e.message.text[:5] for e in history[:6]] == [f"old {i}" for i in range(6)]


def test_the_truncate_policy_records_what_it_left_out(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    agent = ledger.create_agent(CTX, AgentFields(name="a", provider="openai", context_limit=400))
    session_id = long_session(ledger, str(agent.id))
    fake_provider.script(Reply(text="ok"))

    ledger.chat(CTX, session_id, "go")

    (completion,) = [
        e
        for e in ledger.list_events("t1", session_id).data
        if isinstance(e, Session.CompletionRecorded)
    ]
    context = ledger.call_context("t1", session_id, completion.completion_id)
    history = ledger.list_messages("t1", session_id, limit=100).data
    excluded = context.excluded_message_ids
    assert excluded and excluded == [e.message.id for e in history[: len(excluded)]]
    # the rest of the old messages, then the input ("go"); the reply ("ok") came after
    assert context.message_ids == [e.message.id for e in history[len(excluded) : -1]]
    sent = fake_provider.last_request.body["messages"][1:]
    assert [m.text for m in context.messages] == [m["content"] for m in sent]


def test_a_summary_given_by_hand_stands_in_from_the_next_turn(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session_id = long_session(ledger)
    fake_provider.script(Reply(text="ok"))

    state = ledger.summarize(CTX, session_id, text="Six long old messages.")
    ledger.chat(CTX, session_id, "continue")

    assert [s.text for s in state.summaries] == ["Six long old messages."]
    sent = fake_provider.last_request.body["messages"]
    assert sent[0]["content"].endswith("Six long old messages.")
    assert [m["content"] for m in sent[1:]] == ["continue"]
