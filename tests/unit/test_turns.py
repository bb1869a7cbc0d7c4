"""Deciding a turn: the prompt `prepare_turn` builds, and the offline models' replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import anyio
import pytest

from adapters.llm.offline import OfflineChatModel, ReplayChatModel, ScriptedChatModel
from adapters.rendering import SandboxedRenderer
from domain.agent import AgentState
from domain.errors import InvalidInputError, ProviderError, ProviderStreamError, TemplateError
from domain.llm import ChatRequest, ChatSettings, PartDelta, ToolDefinition, fold_deltas
from domain.message import Message
from domain.session import SessionState, SummaryRef
from domain.turns import Recalled, TurnInput, estimate_tokens, prepare_turn

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def session_state(**fields: object) -> SessionState:
    values: dict[str, object] = {
        "id": uuid4(),
        "tenant_id": "t1",
        "title": "Trip",
        "user_id": "ann",
        "agent_id": None,
        "situation": "",
        "context": {"city": "Oslo"},
        "metadata": {"tier": "gold"},
        "render_templates": False,
        "version": 1,
        "message_count": 0,
        "messages_total": 0,
        "cleared_at_version": 0,
        "is_deleted": False,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return SessionState.model_validate(values | fields)


def agent_state(**fields: object) -> AgentState:
    values: dict[str, object] = {
        "id": uuid4(),
        "tenant_id": "t1",
        "name": "guide",
        "provider": "anthropic",
        "model": "agent-model",
        "instructions": "",
        "settings": ChatSettings(temperature=0.3, max_tokens=50),
        "tools": [ToolDefinition(name="search")],
        "version": 1,
        "is_deleted": False,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return AgentState.model_validate(values | fields)


def prepare(session: SessionState, turn: TurnInput, agent: AgentState | None = None, history=()):  # type: ignore[no-untyped-def]
    return prepare_turn(
        session,
        agent,
        [Recalled(version, m) for version, m in enumerate(history, start=2)],
        turn,
        renderer=SandboxedRenderer(),
        default_provider="offline",
        default_model="offline-echo",
    )


def test_templates_render_with_the_sessions_context_metadata_user_and_agent() -> None:
    session = session_state(
        situation="Plan for {{ user }} in {{ context.city }} ({{ metadata.tier }}).",
        render_templates=True,
    )
    agent = agent_state(instructions="You are {{ agent.name }}.")

    prepared = prepare(session, TurnInput(messages=[Message.user("go")]), agent)

    assert prepared.manifest.situation == "Plan for ann in Oslo (gold)."
    assert prepared.manifest.instructions == "You are guide."
    assert prepared.request.system == "You are guide.\n\nPlan for ann in Oslo (gold)."


def test_templates_are_left_alone_unless_the_session_asks_for_rendering() -> None:
    prepared = prepare(
        session_state(situation="{{ raw }}"), TurnInput(messages=[Message.user("x")])
    )

    assert prepared.request.system == "{{ raw }}"


@pytest.mark.parametrize(
    "template", ["{{ nope }}", "{{ ''.__class__ }}", "{% for %}", "{{ context.clear() }}"]
)
def test_a_bad_or_unsafe_template_is_a_template_error(template: str) -> None:
    session = session_state(situation=template, render_templates=True)

    with pytest.raises(TemplateError):
        prepare(session, TurnInput(messages=[Message.user("x")]))


def test_call_settings_override_the_agents_and_tools_combine_by_name() -> None:
    agent = agent_state()
    turn = TurnInput(
        messages=[Message.user("x")],
        settings=ChatSettings(temperature=0.9),
        tools=[ToolDefinition(name="search", description="newer"), ToolDefinition(name="calc")],
    )

    prepared = prepare(session_state(), turn, agent)

    settings = prepared.request.settings
    assert (settings.temperature, settings.max_tokens, settings.model) == (0.9, 50, "agent-model")
    assert prepared.provider == "anthropic"
    assert [(t.name, t.description) for t in prepared.request.tools] == [
        ("search", "newer"),
        ("calc", ""),
    ]


def test_the_manifest_lists_the_recalled_history_and_the_new_input() -> None:
    history = [Message.user("a", id="m1"), Message.assistant("b", id="m2")]

    recalled = prepare(
        session_state(), TurnInput(messages=[Message.user("c", id="m3")]), None, history
    )
    forgetful = prepare(
        session_state(),
        TurnInput(messages=[Message.user("c", id="m3")], recall=False, remember=False),
        None,
        history,
    )

    window = recalled.manifest.history
    assert window is not None and (window.length, window.sent) == (2, [(0, 2)])
    assert window.ids(["m1", "m2"]) == (["m1", "m2"], [], [])
    assert recalled.manifest.message_ids == recalled.manifest.input_message_ids == ["m3"]
    assert forgetful.manifest.history is None
    assert forgetful.manifest.message_ids == ["m3"] and forgetful.manifest.input_message_ids == []


def test_a_turn_with_nothing_to_send_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        prepare(session_state(), TurnInput())


def request(text: str, **settings: object) -> ChatRequest:
    return ChatRequest(
        model="m", messages=[Message.user(text)], settings=ChatSettings.model_validate(settings)
    )


def test_the_offline_model_is_deterministic_and_streams_what_it_completes() -> None:
    model = OfflineChatModel()

    async def both() -> tuple[object, object]:
        streamed = fold_deltas(
            [d async for d in model.stream(request("hello"))], provider="offline"
        )
        return streamed, await model.complete(request("hello"))

    streamed, completed = anyio.run(both)

    assert streamed == completed
    assert "hello" in completed.text  # type: ignore[attr-defined]


def test_the_offline_model_answers_json_suggestions_when_asked_for_json() -> None:
    reply = anyio.run(
        OfflineChatModel().complete, request("trains to Bergen", response_format="json")
    )

    suggestions = json.loads(reply.text)
    assert isinstance(suggestions, list) and len(suggestions) == 3


def test_a_scripted_model_plays_its_file_and_can_fail_mid_stream(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(
        json.dumps(
            [
                "plain text reply",
                {"tool_calls": [{"name": "search", "arguments": {"q": "x"}}]},
                {"text": "one two three", "fail": "boom", "fail_after_chunks": 2},
            ]
        )
    )
    model = ScriptedChatModel.from_file(script)

    async def run() -> tuple[object, object, list[str], BaseException]:
        first = await model.complete(request("a"))
        second = await model.complete(request("b"))
        seen: list[str] = []
        try:
            async for delta in model.stream(request("c")):
                if isinstance(delta, PartDelta):
                    seen.append(delta.text)
        except ProviderError as error:
            return first, second, seen, error
        raise AssertionError("the third reply should fail")

    first, second, seen, error = anyio.run(run)

    assert first.text == "plain text reply"  # type: ignore[attr-defined]
    assert second.tool_calls[0].arguments == {"q": "x"}  # type: ignore[attr-defined]
    assert seen == ["one ", "two "] and isinstance(error, ProviderStreamError)
    with pytest.raises(ProviderError):
        anyio.run(model.complete, request("d"))


def test_a_replay_model_answers_with_the_recorded_replies_in_order() -> None:
    recorded = [anyio.run(OfflineChatModel().complete, request(t)) for t in ("one", "two")]
    model = ReplayChatModel(recorded)

    replies = [anyio.run(model.complete, request("anything")) for _ in range(2)]

    assert [(r.candidates, r.usage) for r in replies] == [(r.candidates, r.usage) for r in recorded]
    with pytest.raises(ProviderError):
        anyio.run(model.complete, request("three"))


def test_a_summary_stands_in_for_the_messages_it_covers() -> None:
    history = [Message.user(f"m{i}", id=f"m{i}") for i in range(4)]  # versions 2..5
    session = session_state(
        situation="Help.",
        summaries=[SummaryRef(summary_id="s1", text="They met.", from_version=2, to_version=3)],
    )

    prepared = prepare(session, TurnInput(messages=[Message.user("next", id="n")]), None, history)

    assert [m.id for m in prepared.request.messages] == ["m2", "m3", "n"]
    assert prepared.request.system == "Help.\n\nSummary of the earlier conversation:\nThey met."
    window = prepared.manifest.history
    assert window is not None and (window.sent, window.summarized) == ([(2, 4)], [(0, 2)])
    assert window.ids([m.id or "" for m in history]) == (["m2", "m3"], [], ["m0", "m1"])
    assert prepared.manifest.summary_ids == ["s1"]


def test_over_the_context_limit_the_oldest_messages_are_left_out() -> None:
    history = [Message.user("x" * 400, id=f"m{i}") for i in range(5)]  # ~104 tokens each
    agent = agent_state(context_limit=300, provider="offline")

    prepared = prepare(
        session_state(), TurnInput(messages=[Message.user("q", id="q")]), agent, history
    )

    kept = [m.id for m in prepared.request.messages]
    assert kept == ["m3", "m4", "q"]
    window = prepared.manifest.history
    assert window is not None and (window.sent, window.excluded) == ([(3, 5)], [(0, 3)])
    assert window.ids([m.id or "" for m in history])[1] == ["m0", "m1", "m2"]
    assert prepared.to_summarize == []
    assert sum(estimate_tokens(m.text) for m in prepared.request.messages) <= 300


def test_the_summarize_policy_asks_for_the_excluded_messages_to_be_summarised() -> None:
    history = [Message.user("x" * 400, id=f"m{i}") for i in range(5)]
    agent = agent_state(context_limit=300, context_policy="summarize")

    prepared = prepare(session_state(), TurnInput(messages=[Message.user("q")]), agent, history)

    assert [r.message.id for r in prepared.to_summarize] == ["m0", "m1", "m2"]
