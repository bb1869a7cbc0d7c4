"""`chatledger erase` and `chatledger redact`: content goes, the session's shape stays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]


def test_a_session_is_erased_and_a_message_redacted_from_the_command_line(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    session = chatledger_json("sessions", "create", "--title", "zqxcanary-title")
    sid = session["id"]
    chatledger("append", sid, "zqxcanary-first")
    chatledger("append", sid, "second, kept")
    first, _ = chatledger_json("history", sid)["data"]

    redacted = chatledger_json("redact", sid, first["id"], "--reason", "moderation")

    assert redacted["id"] == sid
    texts = [m["content"][0]["text"] for m in chatledger_json("history", sid)["data"]]
    assert texts == ["[redacted]", "second, kept"]

    erased = chatledger_json("erase", sid, "--reason", "gdpr-art-17")

    assert (erased["status"], erased["title"]) == ("erased", "[erased]")
    shown = chatledger_json("show", sid, "--version", "3")
    assert "zqxcanary" not in str(shown) and "second, kept" not in str(shown)
    events = chatledger("events", sid, "--json").stdout
    assert "zqxcanary" not in events and "chatledger.Session.ContentErased" in events


def test_bad_erasure_input_is_one_line_and_exit_2_or_1(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    sid = chatledger_json("sessions", "create")["id"]

    one_line_error(chatledger("erase", sid, "--reason", "Because!", exit_code=2), 2, "reason")
    one_line_error(chatledger("redact", sid, "nope", exit_code=1), 1, "nope")
