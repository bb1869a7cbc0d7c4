"""`chatledger chat SESSION_ID MESSAGE`: one turn, streamed to stdout and recorded; `--json`,
stdin, turn options, real provider wire through the fake provider, failures and telemetry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from adapters.chat_events import DoneEvent, ThinkingEvent, ToolEndEvent, ToolStartEvent
from adapters.cli.chat_display import TurnDisplay
from adapters.telemetry import Telemetry
from tests.support.fake_provider import Fail, FakeProvider, Reply

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def openai_env(fake_provider: FakeProvider) -> dict[str, str]:
    return {
        "CHATLEDGER_DEFAULT_PROVIDER": "openai",
        "OPENAI_BASE_URL": fake_provider.openai_url,
        "OPENAI_API_KEY": "test",
    }


def event_types(chatledger_json: RunJson, session_id: str) -> list[str]:
    return [event["type"] for event in chatledger_json("events", session_id)["data"]]


def texts(chatledger_json: RunJson, session_id: str) -> list[tuple[str, str]]:
    history = chatledger_json("history", session_id)["data"]
    return [(m["role"], "".join(block["text"] for block in m["content"])) for m in history]


def test_a_turn_streams_the_reply_to_stdout_and_records_it(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "Offline")["id"]

    result = chatledger("chat", session_id, "What is an event log?")

    (user, assistant) = texts(chatledger_json, session_id)
    assert user == ("user", "What is an event log?")
    assert assistant[0] == "assistant" and "What is an event log?" in assistant[1]
    assert result.stdout == assistant[1] + "\n"
    summary = result.stderr.splitlines()
    assert len(summary) == 1
    assert summary[0].startswith("offline/offline-echo · ")
    assert "out tokens" in summary[0] and summary[0].endswith(" · stop")
    assert event_types(chatledger_json, session_id) == [
        "Session.Created",
        "Session.MessageAppended",
        "Session.CompletionRecorded",
        "Session.MessageAppended",
    ]


def test_json_prints_the_turn_result_and_nothing_else(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    result = chatledger_json("chat", session_id, "hello")

    history = chatledger_json("history", session_id)["data"]
    assert result["session_id"] == session_id
    assert (result["provider"], result["model"], result["finish_reason"]) == (
        "offline",
        "offline-echo",
        "stop",
    )
    assert result["user_message_id"] == history[0]["id"]
    assert result["message_id"] == history[1]["id"]
    assert result["output"] == history[1]["content"][0]["text"]
    assert result["version"] == 4
    assert result["token_usage"]["output_tokens"] > 0


@pytest.mark.parametrize("argument", [[], ["-"]], ids=["no MESSAGE", "MESSAGE -"])
def test_the_message_can_be_piped_on_stdin(
    chatledger: Run, chatledger_json: RunJson, argument: list[str]
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    result = chatledger("chat", session_id, *argument, stdin="from a pipe\nsecond line\n")

    assert texts(chatledger_json, session_id)[0] == ("user", "from a pipe\nsecond line")
    assert "from a pipe" in result.stdout


def test_no_remember_keeps_the_turn_out_of_the_history_but_records_the_call(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    result = chatledger("chat", session_id, "off the record", "--no-remember")

    assert "off the record" in result.stdout
    assert "not remembered" in result.stderr
    assert chatledger_json("history", session_id)["data"] == []
    assert event_types(chatledger_json, session_id) == [
        "Session.Created",
        "Session.CompletionRecorded",
    ]


def test_an_idempotency_key_runs_the_turn_once(chatledger: Run, chatledger_json: RunJson) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    first = chatledger("chat", session_id, "once", "--idempotency-key", "k-1")
    again = chatledger("chat", session_id, "once", "--idempotency-key", "k-1")

    assert again.stdout == first.stdout
    assert "replayed" in again.stderr
    assert event_types(chatledger_json, session_id).count("Session.CompletionRecorded") == 1


def test_the_reply_streams_from_an_openai_compatible_provider(
    chatledger: Run, chatledger_json: RunJson, fake_provider: FakeProvider
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    fake_provider.script(Reply(text="Streams arrive in several small chunks.", chunks=5))

    result = chatledger(
        "chat", session_id, "stream please", "--model", "fake-model", "--max-tokens", "64",
        "--temperature", "0.5", env=openai_env(fake_provider),
    )  # fmt: skip

    assert result.stdout == "Streams arrive in several small chunks.\n"
    assert result.stderr.startswith("openai/fake-model · 12 in / 5 out tokens")
    sent = fake_provider.last_request.body
    assert sent["stream"] is True
    assert (sent["model"], sent["max_completion_tokens"], sent["temperature"]) == (
        "fake-model",
        64,
        0.5,
    )
    assert texts(chatledger_json, session_id)[-1] == (
        "assistant",
        "Streams arrive in several small chunks.",
    )


def test_a_session_bound_to_an_agent_chats_with_its_provider_model_and_instructions(
    chatledger: Run, chatledger_json: RunJson, fake_provider: FakeProvider
) -> None:
    agent_id = chatledger_json(
        "agents", "create", "--name", "Librarian", "--provider", "openai", "--model", "agent-model",
        "--instructions", "Answer like a librarian.",
    )["id"]  # fmt: skip
    session_id = chatledger_json("sessions", "create", "--agent", agent_id)["id"]
    fake_provider.script(Reply(text="Shh."))
    env = openai_env(fake_provider) | {"CHATLEDGER_DEFAULT_PROVIDER": "offline"}

    result = chatledger("chat", session_id, "hello", env=env)

    assert result.stdout == "Shh.\n"
    sent = fake_provider.last_request.body
    assert sent["model"] == "agent-model"
    assert sent["messages"][0] == {"role": "system", "content": "Answer like a librarian."}


def test_a_provider_error_is_one_line_exit_1_and_recorded(
    chatledger: Run,
    chatledger_json: RunJson,
    fake_provider: FakeProvider,
    one_line_error: OneLineError,
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    fake_provider.script(Fail(400, message="model overloaded with nonsense"))

    result = chatledger("chat", session_id, "hello", env=openai_env(fake_provider), exit_code=1)

    one_line_error(result, 1, "provider answered HTTP 400", "model overloaded with nonsense")
    events = chatledger_json("events", session_id)["data"]
    assert [e["type"] for e in events] == ["Session.Created", "Session.CompletionFailed"]
    assert events[1]["data"]["completion_id"] in result.stderr
    assert chatledger_json("history", session_id)["data"] == []


def test_a_stream_cut_midway_keeps_what_was_shown_and_records_it_as_partial(
    chatledger: Run, chatledger_json: RunJson, fake_provider: FakeProvider
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    fake_provider.script(Reply(text="apple01 banana2 cherry3 damson4", chunks=4, error_after=2))

    result = chatledger("chat", session_id, "fruit", env=openai_env(fake_provider), exit_code=1)

    assert result.stdout == "apple01 banana2 \n"
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    failed = chatledger_json("events", session_id)["data"][-1]
    assert failed["type"] == "Session.CompletionFailed"
    assert [block["text"] for block in failed["data"]["partial"]] == ["apple01 banana2 "]


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["hello", "--provider", "nope"], {}, "provider 'nope': unknown provider"),
        (["hello"], {"CHATLEDGER_DEFAULT_PROVIDER": "openai"}, "provider 'openai'"),
        ([], {}, "no message: give MESSAGE, pipe one on stdin"),
        (["   "], {}, "MESSAGE is empty"),
        (["hi", "--temperature", "3"], {}, "Invalid value for '--temperature'"),
        (["hi"], {"OTEL_TRACES_EXPORTER": "zipkin"}, "telemetry: OTEL_TRACES_EXPORTER='zipkin'"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_usage_or_configuration_error_is_one_line_and_exit_2(
    chatledger: Run,
    chatledger_json: RunJson,
    one_line_error: OneLineError,
    args: list[str],
    env: dict[str, str],
    fragment: str,
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    result = chatledger("chat", session_id, *args, env=env, exit_code=2)

    one_line_error(result, 2, fragment)
    assert event_types(chatledger_json, session_id) == ["Session.Created"]


def test_an_unknown_session_is_one_line_and_exit_1(
    chatledger: Run, one_line_error: OneLineError
) -> None:
    result = chatledger("chat", UNKNOWN, "hello", exit_code=1)

    one_line_error(result, 1, f"session {UNKNOWN} not found")


def test_a_session_whose_agent_was_deleted_cannot_chat(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    agent_id = chatledger_json("agents", "create", "--name", "retired")["id"]
    session_id = chatledger_json("sessions", "create", "--agent", agent_id)["id"]
    chatledger_json("agents", "delete", agent_id)

    result = chatledger("chat", session_id, "hello", exit_code=1)

    one_line_error(result, 1, f"agent {agent_id} was deleted")
    assert event_types(chatledger_json, session_id) == ["Session.Created"]


def test_chat_traces_with_telemetry_from_otel_variables_without_global_providers(
    chatledger: Run,
    chatledger_json: RunJson,
    global_providers: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    shutdowns: list[Telemetry] = []
    real_shutdown = Telemetry.shutdown
    monkeypatch.setattr(Telemetry, "shutdown", lambda t: (shutdowns.append(t), real_shutdown(t)))

    result = chatledger("chat", session_id, "traced", env={"OTEL_TRACES_EXPORTER": "console"})

    assert "traced" in result.stdout and "{" not in result.stdout
    assert '"name": "invoke_agent chatledger"' in result.stderr
    assert '"name": "chat offline-echo"' in result.stderr
    completion = chatledger_json("events", session_id)["data"][2]
    assert f"0x{completion['trace_id']}" in result.stderr  # the recorded turn is the traced one
    assert len(shutdowns) == 1
    assert global_providers == []


def test_thinking_and_tools_are_dim_notes_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    done = DoneEvent(
        execution_id="e", session_id="s", completion_id="c", completion_ids=["c"], output="",
        time=0.25, version=3, provider="p", model="m", finish_reason="stop",
        suggestions=["Tell me more"],
    )  # fmt: skip
    events = [
        ThinkingEvent(content="weighing "),
        ThinkingEvent(content="options"),
        ToolStartEvent(id="t1", name="lookup", arguments={"word": "ledger"}),
        ToolEndEvent(id="t1", name="lookup", summary="a book of accounts"),
        done,
    ]
    for show_thinking in (False, True):
        display = TurnDisplay(show_thinking=show_thinking)
        for event in events:
            display.show(event)
        captured = capsys.readouterr()
        assert captured.out == ""
        notes = [
            'tool lookup {"word": "ledger"}',
            "tool lookup: a book of accounts",
            "p/m · 0 in / 0 out tokens · 0.25 s · stop · not remembered",
            "suggestion: Tell me more",
        ]
        assert captured.err.splitlines() == (["weighing options"] if show_thinking else []) + notes


def test_thinking_streams_from_the_scripted_provider_when_asked(
    chatledger: Run, chatledger_json: RunJson, tmp_path: Any
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"thinking": "mull it over", "text": "Decided."}]))
    env = {"CHATLEDGER_DEFAULT_PROVIDER": "scripted", "CHATLEDGER_SCRIPTED_REPLIES": str(script)}
    session_id = chatledger_json("sessions", "create")["id"]

    shown = chatledger("chat", session_id, "think", "--show-thinking", env=env)

    assert shown.stdout == "Decided.\n"
    assert shown.stderr.splitlines()[0] == "mull it over"


def test_context_shows_exactly_what_a_turn_sent(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    first = chatledger_json("chat", session_id, "one")
    second = chatledger_json("chat", session_id, "two")

    context = chatledger_json("context", session_id, second["completion_id"])
    table = chatledger("context", session_id, second["completion_id"])

    assert context["message_ids"] == [
        first["user_message_id"],
        first["message_id"],
        second["user_message_id"],
    ]
    assert [m["content"][0]["text"] for m in context["messages"]] == ["one", first["output"], "two"]
    assert context["history"]["sent"] == [[0, 2]] and context["provider"] == "offline"
    assert table.exit_code == 0
    assert "sent: 3 messages" in table.stdout and second["user_message_id"] in table.stdout
    missing = chatledger("context", session_id, "no-such-call", exit_code=1)
    one_line_error(missing, 1, f"session {session_id} recorded no completion 'no-such-call'")
