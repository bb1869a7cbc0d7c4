"""The chat turn through the Python API: what is recorded, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.chat_events import ContentEvent, DoneEvent, ErrorEvent, ExecutionEvent
from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.errors import InvalidInputError, ProviderError, TemplateError
from domain.llm import ChatSettings
from domain.session import Session
from tests.support.fake_provider import FakeProvider
from tests.support.fake_provider_script import Fail, Reply, ToolCall

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def ledger(chat_ledger: Ledger) -> Ledger:
    return chat_ledger


def events(ledger: Ledger, session_id: Any) -> list[Any]:
    return ledger.list_events("t1", session_id, limit=1000).data


def kinds(ledger: Ledger, session_id: Any) -> list[str]:
    return [type(e).__name__ for e in events(ledger, session_id)]


def test_a_turn_records_the_user_message_the_completion_and_the_reply(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX, situation="Be brief.")
    fake_provider.script(Reply(text="Snow in Oslo today.", chunks=3))

    result = ledger.chat(CTX, session.id, "Weather in Oslo?")

    assert result.output == "Snow in Oslo today."
    assert kinds(ledger, session.id) == [
        "Created",
        "MessageAppended",
        "CompletionRecorded",
        "MessageAppended",
    ]
    _, user, completion, reply = events(ledger, session.id)
    assert user.message.text == "Weather in Oslo?" and reply.message.role == "assistant"
    assert completion.manifest.message_ids == [user.message.id]
    assert completion.manifest.system == "Be brief."
    assert completion.reply.usage.input_tokens == 12
    assert completion.provider == "openai" and completion.reply.trace_id
    assert result.message_id == reply.message.id and result.version == 4
    sent = fake_provider.last_request.body
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
    ]


def test_the_history_is_recalled_into_the_next_prompt(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="First answer."), Reply(text="Second answer."))
    ledger.chat(CTX, session.id, "first")

    ledger.chat(CTX, session.id, "second")

    roles = [(m["role"], m["content"]) for m in fake_provider.last_request.body["messages"]]
    assert roles == [
        ("user", "first"),
        ("assistant", "First answer."),
        ("user", "second"),
    ]
    history = [e.message.text for e in ledger.list_messages("t1", session.id).data]
    assert history == ["first", "First answer.", "second", "Second answer."]


def test_remember_false_keeps_the_turn_out_of_the_history_but_records_the_completion(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="off the record"))

    ledger.chat(CTX, session.id, "secret question", remember=False)

    assert ledger.list_messages("t1", session.id).data == []
    (completion,) = [
        e for e in events(ledger, session.id) if isinstance(e, Session.CompletionRecorded)
    ]
    assert completion.remember is False
    assert [m.text for m in completion.input_messages] == ["secret question"]
    assert completion.reply.text == "off the record"


def test_an_agent_supplies_defaults_that_the_call_overrides(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    agent = ledger.create_agent(
        CTX,
        AgentFields(
            name="guide",
            provider="openai",
            model="agent-model",
            instructions="You are {{ agent.name }} for {{ user }}.",
            settings=ChatSettings(temperature=0.2, max_tokens=100),
        ),
    )
    session = ledger.create_session(
        CTX, agent_id=str(agent.id), user_id="ann", render_templates=True
    )
    fake_provider.script(Reply(text="ok"), Reply(text="ok"))

    ledger.chat(CTX, session.id, "hi")
    first = fake_provider.last_request.body
    ledger.chat(
        CTX, session.id, "again", settings=ChatSettings(temperature=0.9, model="call-model")
    )
    second = fake_provider.last_request.body

    assert first["model"] == "agent-model" and first["temperature"] == 0.2
    assert first["messages"][0] == {"role": "system", "content": "You are guide for ann."}
    assert second["model"] == "call-model" and second["temperature"] == 0.9
    assert second["max_completion_tokens"] == 100


def test_a_template_error_is_refused_before_any_call_and_nothing_is_recorded(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX, situation="Hi {{ missing.x }}", render_templates=True)

    with pytest.raises(TemplateError) as raised:
        ledger.chat(CTX, session.id, "hello")

    assert raised.value.field == "situation"
    assert fake_provider.calls == 0
    assert kinds(ledger, session.id) == ["Created"]


def test_registered_python_tools_run_in_the_turn_loop(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"3°C and snow in {city}"

    ledger.register_tool(get_weather)
    session = ledger.create_session(CTX)
    fake_provider.script(
        Reply(tool_calls=(ToolCall("get_weather", {"city": "Oslo"}, id="call_1"),)),
        Reply(text="It is snowing in Oslo."),
    )

    result = ledger.chat(CTX, session.id, "Weather?")

    assert result.output == "It is snowing in Oslo." and len(result.completion_ids) == 2
    assert kinds(ledger, session.id) == [
        "Created",
        "MessageAppended",
        "CompletionRecorded",
        "MessageAppended",
        "MessageAppended",
        "CompletionRecorded",
        "MessageAppended",
    ]
    sent = fake_provider.last_request.body["messages"]
    assert sent[-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "3°C and snow in Oslo",
    }
    tools = fake_provider.requests[0].body["tools"]
    assert tools[0]["function"]["name"] == "get_weather"
    assert tools[0]["function"]["parameters"]["required"] == ["city"]
    context = ledger.call_context("t1", session.id, result.completion_ids[1])
    assert (
        [m.role for m in context.messages]
        == [m["role"] for m in sent]
        == [
            "user",
            "assistant",
            "tool",
        ]
    )


def test_unregistered_tool_calls_are_returned_to_the_caller(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(tool_calls=(ToolCall("lookup", {"q": "x"}, id="call_9"),)))

    result = ledger.chat(CTX, session.id, "look it up")

    assert result.finish_reason == "tool_call"
    assert [c.name for c in result.tool_calls] == ["lookup"]
    last = ledger.list_messages("t1", session.id).data[-1].message
    assert last.content[0].type == "tool_call"


def test_a_provider_failure_records_the_input_and_raises(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Fail(status=400, message="bad request"))

    with pytest.raises(ProviderError):
        ledger.chat(CTX, session.id, "hello")

    (failed,) = [e for e in events(ledger, session.id) if isinstance(e, Session.CompletionFailed)]
    assert failed.error_type and [m.text for m in failed.input_messages] == ["hello"]
    assert ledger.list_messages("t1", session.id).data == []


def test_a_stream_cut_mid_way_records_exactly_the_text_that_was_streamed(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="one two three four five six", chunks=6, drop_after=3))

    async def collect() -> list[Any]:
        return [event async for event in ledger.astream(CTX, session.id, "count")]

    received = ledger.loop_thread().run(collect())

    assert isinstance(received[0], ExecutionEvent) and isinstance(received[-1], ErrorEvent)
    streamed = "".join(e.content for e in received if isinstance(e, ContentEvent))
    (failed,) = [e for e in events(ledger, session.id) if isinstance(e, Session.CompletionFailed)]
    assert streamed and failed.partial[0].text == streamed
    assert fake_provider.calls == 1, "never retried after content reached the client"


def test_a_repeated_idempotency_key_returns_the_stored_result_without_a_call(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="once"))

    first = ledger.chat(CTX, session.id, "hi", idempotency_key="key-1")
    again = ledger.chat(CTX, session.id, "hi", idempotency_key="key-1")

    assert fake_provider.calls == 1
    assert again.replayed and (again.output, again.completion_id) == ("once", first.completion_id)
    with pytest.raises(InvalidInputError):
        ledger.chat(CTX, session.id, "something else", idempotency_key="key-1")
    assert fake_provider.calls == 1


def test_streamed_deltas_add_up_to_the_final_output(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="alpha beta gamma delta", chunks=4))

    async def collect() -> list[Any]:
        return [event async for event in ledger.astream(CTX, session.id, "go")]

    received = ledger.loop_thread().run(collect())

    contents = [e.content for e in received if isinstance(e, ContentEvent)]
    (done,) = [e for e in received if isinstance(e, DoneEvent)]
    assert len(contents) == 4 and "".join(contents) == done.output == "alpha beta gamma delta"
    assert isinstance(received[0], ExecutionEvent) and received[-1] is done
