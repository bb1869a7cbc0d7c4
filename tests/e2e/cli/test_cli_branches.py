"""`chatledger diff|fork|copy|merge`: compare versions, and branch sessions with provenance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def make_session(chatledger_json: RunJson, title: str, *texts: str, **fields: str) -> str:
    """A session (version 1) with one appended message per text (versions 2, 3, …)."""
    options = [part for name, value in fields.items() for part in (f"--{name}", value)]
    session_id = str(chatledger_json("sessions", "create", "--title", title, *options)["id"])
    for text in texts:
        chatledger_json("append", session_id, text)
    return session_id


def history(chatledger_json: RunJson, session_id: str) -> list[tuple[str, str, Any]]:
    """The session's messages as (role, text, origin)."""
    shown = chatledger_json("sessions", "show", session_id, "--messages")
    return [
        (m["role"], m["content"][0]["text"], m["origin"] and m["origin"]["session_id"])
        for m in shown["messages"]
    ]


def event_types(chatledger_json: RunJson, session_id: str) -> list[str]:
    return [e["type"] for e in chatledger_json("events", session_id)["data"]]


def test_a_diff_shows_changed_fields_and_messages_added_and_removed(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    sid = make_session(chatledger_json, "Draft", "one", "two", metadata='{"team": "a"}')
    chatledger_json("sessions", "update", sid, "--title", "Final", "--metadata", '{"team": "b"}')
    chatledger_json("clear", sid)  # version 6
    chatledger_json("append", sid, "three")  # version 7
    before_clear = chatledger_json("sessions", "show", sid, "--messages")  # now: only "three"
    [three] = before_clear["messages"]

    forward = chatledger_json("diff", sid, "--from", "1", "--to", "3")
    across = chatledger_json("diff", sid, "--from", "3", "--to", "7")

    assert (forward["session_id"], forward["from_version"], forward["to_version"]) == (sid, 1, 3)
    assert forward["changes"] == {}
    assert forward["messages_removed"] == []
    assert [(m["role"], m["content"][0]["text"]) for m in forward["messages_added"]] == [
        ("user", "one"),
        ("user", "two"),
    ]
    assert across["changes"] == {
        "title": {"before": "Draft", "after": "Final"},
        "metadata": {"before": {"team": "a"}, "after": {"team": "b"}},
    }
    assert across["messages_removed"] == [m["id"] for m in forward["messages_added"]]
    assert [m["id"] for m in across["messages_added"]] == [three["id"]]

    table = chatledger("diff", sid, "--from", "3", "--to", "7").stdout
    assert f"session {sid}, version 3 → 7" in table
    assert "changed fields" in table and "Draft" in table and "Final" in table
    assert '{"team": "a"}' in table and '{"team": "b"}' in table
    assert "messages removed" in table
    assert all(message_id in table for message_id in across["messages_removed"])
    assert "messages added" in table and three["id"] in table and "three" in table
    undo = chatledger_json("diff", sid, "--from", "7", "--to", "3")
    assert undo["changes"]["title"] == {"before": "Final", "after": "Draft"}
    assert chatledger("diff", sid, "--from", "2", "--to", "2").stdout.splitlines()[-1] == (
        "no changes"
    )


def test_a_fork_at_a_version_inherits_the_history_up_to_it_and_names_its_origin(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    sid = make_session(chatledger_json, "Trip", "one", "two", "three", metadata='{"team": "a"}')

    fork = chatledger_json(
        "fork", sid, "--at-version", "3", "--title", "Trip, plan B",
        "--metadata", '{"team": "b"}', "--agent", "planner", "--situation", "Be brief.",
    )  # fmt: skip

    assert fork["id"] != sid
    assert (fork["title"], fork["metadata"], fork["agent_id"]) == (
        "Trip, plan B",
        {"team": "b"},
        "planner",
    )
    assert (fork["situation"], fork["message_count"], fork["version"]) == ("Be brief.", 2, 1)
    assert history(chatledger_json, fork["id"]) == [("user", "one", sid), ("user", "two", sid)]
    assert [m[1] for m in history(chatledger_json, sid)] == ["one", "two", "three"]
    [forked] = chatledger_json("events", fork["id"])["data"]
    assert forked["type"] == "Session.Forked"
    assert (forked["data"]["source_id"], forked["data"]["source_version"]) == (sid, 3)
    chatledger_json("append", fork["id"], "four")
    assert [m[1] for m in history(chatledger_json, fork["id"])] == ["one", "two", "four"]
    assert [m[1] for m in history(chatledger_json, sid)] == ["one", "two", "three"]

    table = chatledger("fork", sid).stdout
    assert "Trip" in table and "messages" in table and sid not in table


def test_a_copy_is_a_fork_at_the_head(chatledger: Run, chatledger_json: RunJson) -> None:
    sid = make_session(chatledger_json, "Notes", "one", "two")

    copy = chatledger_json("copy", sid, "--title", "Notes (copy)")
    untitled = chatledger_json("copy", sid)

    assert (copy["title"], copy["message_count"]) == ("Notes (copy)", 2)
    assert untitled["title"] == "Notes"
    assert history(chatledger_json, copy["id"]) == [("user", "one", sid), ("user", "two", sid)]
    [copied] = chatledger_json("events", copy["id"])["data"]
    assert copied["type"] == "Session.Forked" and copied["data"]["is_copy"] is True
    assert copied["data"]["source_version"] == 3
    assert "Notes (copy)" in chatledger("copy", sid, "--title", "Notes (copy)").stdout


def test_a_merge_holds_the_sources_histories_and_each_source_records_it(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    first = make_session(chatledger_json, "A", "a1", metadata='{"team": "a"}')
    second = make_session(chatledger_json, "B", "b1")
    chatledger_json("append", first, "a2")

    concatenated = chatledger_json("merge", first, second, "--title", "A+B")
    interleaved = chatledger_json(
        "merge", second, first, "--policy", "interleave", "--metadata", '{"team": "ab"}'
    )

    assert (concatenated["title"], concatenated["metadata"]) == ("A+B", {"team": "a"})
    assert history(chatledger_json, concatenated["id"]) == [
        ("user", "a1", first),
        ("user", "a2", first),
        ("user", "b1", second),
    ]
    assert interleaved["metadata"] == {"team": "ab"}
    assert history(chatledger_json, interleaved["id"]) == [
        ("user", "a1", first),
        ("user", "b1", second),
        ("user", "a2", first),
    ]
    [merged] = chatledger_json("events", concatenated["id"])["data"]
    assert merged["type"] == "Session.Merged" and merged["data"]["policy"] == "concatenate"
    assert [s["session_id"] for s in merged["data"]["sources"]] == [first, second]
    for source in (first, second):
        assert event_types(chatledger_json, source).count("Session.MergedInto") == 2
    assert "A+B" in chatledger("merge", first, second, "--title", "A+B").stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["diff", "{sid}", "--from", "1", "--to", "9"], "--to: must be between 1 and 3, got 9"),
        (["diff", "{sid}", "--from", "9", "--to", "1"], "--from: must be between 1 and 3, got 9"),
        (["diff", "{sid}", "--from", "0", "--to", "1"], "'--from'"),
        (["diff", "{sid}", "--to", "1"], "Missing option '--from'"),
        (["fork", "{sid}", "--at-version", "4"], "--at-version: must be between 1 and 3, got 4"),
        (["merge", "{sid}"], "merge needs two or more session ids"),
        (["merge", "{sid}", "{sid}"], "merge needs distinct sessions"),
        (["merge", "{sid}", UNKNOWN, "--policy", "zip"], "'--policy'"),
        (["fork", "{sid}", "--metadata", "[1]"], "--metadata"),
    ],
    ids=[
        "diff-to-past-head",
        "diff-from-past-head",
        "diff-from-0",
        "diff-without-from",
        "fork-past-head",
        "merge-one",
        "merge-same-twice",
        "merge-policy",
        "fork-metadata-not-object",
    ],
)
def test_a_bad_version_or_option_is_one_usage_error_line(
    chatledger: Run,
    chatledger_json: RunJson,
    one_line_error: OneLineError,
    args: list[str],
    fragment: str,
) -> None:
    sid = make_session(chatledger_json, "Short", "one", "two")
    sessions_before = chatledger_json("sessions", "list")

    result = chatledger(*(arg.format(sid=sid) for arg in args), exit_code=2)

    one_line_error(result, 2, fragment)
    assert chatledger_json("sessions", "list") == sessions_before


@pytest.mark.parametrize(
    "args",
    [
        ["diff", UNKNOWN, "--from", "1", "--to", "2"],
        ["fork", UNKNOWN],
        ["copy", UNKNOWN],
        ["merge", "{sid}", UNKNOWN],
        ["copy", "not-a-uuid"],
    ],
    ids=["diff", "fork", "copy", "merge", "malformed-id"],
)
def test_an_unknown_session_fails_with_one_line(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError, args: list[str]
) -> None:
    sid = make_session(chatledger_json, "Known", "one")

    result = chatledger(*(arg.format(sid=sid) for arg in args), exit_code=1)

    one_line_error(result, 1, "not found")
    assert [s["id"] for s in chatledger_json("sessions", "list")["data"]] == [sid]
