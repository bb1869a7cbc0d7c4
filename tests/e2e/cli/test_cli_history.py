"""`chatledger append|history|clear|events|show`: messages, the event stream, time travel."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for m in messages for block in m["content"] if block["type"] == "text"]


def test_messages_are_appended_listed_and_cleared(
    chatledger: Run, chatledger_json: RunJson, tmp_path: Path
) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "Chat")["id"]

    appended = chatledger_json("append", session_id, "What is the capital of France?")
    assert appended["session"]["version"] == 2
    [message] = appended["messages"]
    assert (message["role"], message["version"], message["actor"]) == ("user", 2, "local")
    assert message["content"] == [
        {"type": "text", "text": "What is the capital of France?", "citations": None,
         "provider_details": None}
    ]  # fmt: skip
    assert message["id"]

    chatledger_json("append", session_id, "Paris.", "--role", "assistant")
    tool_call = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Checking the weather."},
            {
                "type": "tool_call",
                "id": "call_1",
                "name": "weather",
                "arguments": {"city": "Paris"},
            },
        ],
    }
    chatledger_json("append", session_id, "--json-message", json.dumps(tool_call))
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "call_1",
                                                  "content": [{"type": "text", "text": "18°C"}]}]},
                    {"role": "assistant", "content": "18°C and sunny."},
                ]
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    from_file = chatledger_json("append", session_id, "--file", str(batch))
    assert [m["version"] for m in from_file["messages"]] == [5, 6]
    from_stdin = chatledger_json(
        "append", session_id, "--file", "-", stdin='{"role": "user", "content": "Thanks!"}'
    )
    assert from_stdin["session"]["message_count"] == 6

    history = chatledger_json("history", session_id)
    assert [m["role"] for m in history["data"]] == [
        "user", "assistant", "assistant", "tool", "assistant", "user"
    ]  # fmt: skip
    assert texts(history["data"]) == [
        "What is the capital of France?", "Paris.", "Checking the weather.", "18°C and sunny.",
        "Thanks!",
    ]  # fmt: skip
    assert history["data"][2]["content"][1]["arguments"] == {"city": "Paris"}
    assert history["next_cursor"] is None

    newest = chatledger_json("history", session_id, "--order", "desc", "--limit", "2")
    assert [m["version"] for m in newest["data"]] == [7, 6]
    older = chatledger_json(
        "history", session_id, "--order", "desc", "--limit", "2", "--cursor", newest["next_cursor"]
    )
    assert [m["version"] for m in older["data"]] == [5, 4]
    assert [
        m["version"] for m in chatledger_json("history", session_id, "--offset", "5")["data"]
    ] == [7]

    table = chatledger("history", session_id).stdout
    assert "What is the capital of France?" in table
    assert "[tool call weather" in table

    cleared = chatledger_json("clear", session_id)
    assert (cleared["version"], cleared["message_count"]) == (8, 0)
    assert chatledger_json("history", session_id)["data"] == []
    assert chatledger_json("sessions", "show", session_id, "--messages")["messages"] == []


def test_an_append_at_a_stale_expected_version_is_refused(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    chatledger_json("append", session_id, "first", "--expected-version", "1")

    stale = chatledger("append", session_id, "second", "--expected-version", "1", exit_code=1)

    one_line_error(stale, 1, "expected version 1, found version 2")
    assert texts(chatledger_json("history", session_id)["data"]) == ["first"]


def test_events_list_the_whole_stream_in_pages(chatledger: Run, chatledger_json: RunJson) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "Audit")["id"]
    chatledger_json("append", session_id, "hello")
    chatledger_json("sessions", "update", session_id, "--metadata", '{"k": 1}')
    chatledger_json("clear", session_id)
    chatledger_json("sessions", "delete", session_id)

    events = chatledger_json("events", session_id)

    assert [(e["version"], e["type"]) for e in events["data"]] == [
        (1, "Session.Created"),
        (2, "Session.MessageAppended"),
        (3, "Session.MetadataUpdated"),
        (4, "Session.HistoryCleared"),
        (5, "Session.Deleted"),
    ]
    assert events["data"][0]["data"]["title"] == "Audit"
    assert events["data"][2]["data"] == {"patch": {"k": 1}, "mode": "merge"}
    assert all(
        e["session_id"] == session_id and e["timestamp"].endswith("Z") for e in events["data"]
    )
    first = chatledger_json("events", session_id, "--limit", "2")
    rest = chatledger_json("events", session_id, "--limit", "10", "--cursor", first["next_cursor"])
    assert [e["version"] for e in first["data"] + rest["data"]] == [1, 2, 3, 4, 5]
    table = chatledger("events", session_id).stdout
    assert "MessageAppended" in table
    assert "user: hello" in table


def test_show_travels_to_a_version_or_a_time(chatledger: Run, chatledger_json: RunJson) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "Before")["id"]
    chatledger_json("append", session_id, "one")
    chatledger_json("sessions", "update", session_id, "--title", "After")
    chatledger_json("append", session_id, "two")
    chatledger_json("clear", session_id)
    events = chatledger_json("events", session_id)["data"]

    at_two = chatledger_json("show", session_id, "--version", "2")
    assert (at_two["as_of_version"], at_two["version"], at_two["title"]) == (2, 2, "Before")
    assert texts(at_two["messages"]) == ["one"]

    at_four = chatledger_json("show", session_id, "--at", events[3]["timestamp"])
    assert (at_four["as_of_version"], at_four["title"]) == (4, "After")
    assert texts(at_four["messages"]) == ["one", "two"]

    now = chatledger_json("show", session_id, "--version", "5")
    assert (now["message_count"], now["messages"]) == (0, [])

    table = chatledger("show", session_id, "--version", "2").stdout
    assert "as of version 2" in table
    assert "Before" in table
    assert "one" in table
