"""`chatledger sessions …`: create, list, show, update and delete, as tables and as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]


def test_a_session_is_created_listed_shown_and_deleted(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    created = chatledger_json(
        "sessions", "create", "--title", "Trip to Lisbon", "--user", "alice", "--agent", "planner",
        "--situation", "You plan trips.", "--metadata", '{"team": "travel"}',
        "--context", '{"budget": 900}', "--render-templates",
    )  # fmt: skip

    assert created["title"] == "Trip to Lisbon"
    assert (created["user_id"], created["agent_id"]) == ("alice", "planner")
    assert created["situation"] == "You plan trips."
    assert created["metadata"] == {"team": "travel"}
    assert created["context"] == {"budget": 900}
    assert created["render_templates"] is True
    assert (created["status"], created["version"], created["message_count"]) == ("active", 1, 0)
    assert created["tenant_id"] == "local"
    assert created["created_at"].endswith("Z")
    session_id = created["id"]

    table = chatledger("sessions", "list").stdout
    assert session_id in table
    assert "Trip to Lisbon" in table
    listed = chatledger_json("sessions", "list")
    assert [row["id"] for row in listed["data"]] == [session_id]
    assert listed["next_cursor"] is None
    assert listed["data"][0]["metadata"] == {"team": "travel"}

    assert chatledger_json("sessions", "show", session_id) == created
    with_messages = chatledger_json("sessions", "show", session_id, "--messages")
    assert with_messages["messages"] == []
    shown = chatledger("sessions", "show", session_id).stdout
    assert "Trip to Lisbon" in shown
    assert "travel" in shown

    deleted = chatledger_json("sessions", "delete", session_id)
    assert (deleted["status"], deleted["version"]) == ("deleted", 2)
    assert chatledger_json("sessions", "list")["data"] == []
    hidden = chatledger_json("sessions", "list", "--include-deleted")["data"]
    assert [(row["id"], row["status"]) for row in hidden] == [(session_id, "deleted")]
    gone = chatledger("sessions", "show", session_id, exit_code=1)
    one_line_error(gone, 1, f"session {session_id} was deleted")


def test_a_session_is_created_with_its_first_messages(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    batch = json.dumps(
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}]}
    )

    created = chatledger_json("sessions", "create", "--title", "Imported", "--json-message", batch)
    from_stdin = chatledger_json(
        "sessions", "create", "--file", "-", stdin='{"role": "user", "content": "Alone"}'
    )

    assert (created["version"], created["message_count"]) == (3, 2)
    history = chatledger_json("history", created["id"])
    assert [(m["role"], m["content"][0]["text"]) for m in history["data"]] == [
        ("user", "Hi"),
        ("assistant", "Hey"),
    ]
    assert (from_stdin["version"], from_stdin["message_count"]) == (2, 1)
    both = chatledger(
        "sessions", "create", "--json-message", batch, "--file", "-", stdin=batch, exit_code=2
    )
    one_line_error(both, 2, "--json-message or --file, not both")
    invalid = chatledger(
        "sessions", "create", "--json-message", '{"messages": [{"role": "x"}]}', exit_code=2
    )
    one_line_error(invalid, 2, "--json-message")
    assert len(chatledger_json("sessions", "list")["data"]) == 2


def test_user_text_is_printed_as_typed_not_as_markup(chatledger: Run) -> None:
    title = "[bold]not bold[/bold] :smile:"

    shown = chatledger("sessions", "create", "--title", title).stdout

    assert title in shown


def test_an_update_merges_by_default_and_overwrites_with_overwrite(
    chatledger_json: RunJson,
) -> None:
    created = chatledger_json(
        "sessions", "create", "--title", "Draft", "--situation", "Be brief.",
        "--metadata", '{"team": "a", "labels": {"x": 1}}', "--context", '{"lang": "en"}',
    )  # fmt: skip
    session_id = created["id"]

    merged = chatledger_json(
        "sessions", "update", session_id, "--title", "Final",
        "--metadata", '{"labels": {"y": 2}, "team": null}',
    )  # fmt: skip

    assert merged["title"] == "Final"
    assert merged["metadata"] == {"labels": {"x": 1, "y": 2}}
    assert merged["situation"] == "Be brief."
    assert merged["context"] == {"lang": "en"}
    assert merged["version"] == 3  # TitleChanged, MetadataUpdated

    overwritten = chatledger_json(
        "sessions", "update", session_id, "--overwrite", "--metadata", '{"team": "b"}'
    )

    assert overwritten["metadata"] == {"team": "b"}
    assert (overwritten["title"], overwritten["situation"], overwritten["context"]) == ("", "", {})
    assert chatledger_json("sessions", "show", session_id) == overwritten


def test_an_update_at_a_stale_expected_version_is_refused(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "v1")["id"]
    chatledger_json("sessions", "update", session_id, "--title", "v2", "--expected-version", "1")

    stale = chatledger(
        "sessions", "update", session_id, "--title", "v3", "--expected-version", "1", exit_code=1
    )

    one_line_error(stale, 1, "expected version 1, found version 2")
    assert chatledger_json("sessions", "show", session_id)["title"] == "v2"


def test_sessions_are_listed_filtered_and_paged(chatledger_json: RunJson) -> None:
    ids = [
        chatledger_json(
            "sessions", "create", "--title", f"s{n}", "--user", user,
            "--metadata", json.dumps({"team": team, "n": n}),
        )["id"]
        for n, (user, team) in enumerate([("alice", "a"), ("bob", "a"), ("alice", "b")])
    ]  # fmt: skip

    newest_first = [row["id"] for row in chatledger_json("sessions", "list")["data"]]
    assert newest_first == ids[::-1]
    oldest_first = chatledger_json("sessions", "list", "--order", "asc")["data"]
    assert [row["id"] for row in oldest_first] == ids

    alice = chatledger_json("sessions", "list", "--user", "alice")["data"]
    assert {row["id"] for row in alice} == {ids[0], ids[2]}
    team_a = chatledger_json("sessions", "list", "--metadata-filter", '{"team": "a"}')["data"]
    assert {row["id"] for row in team_a} == {ids[0], ids[1]}

    first = chatledger_json("sessions", "list", "--limit", "2")
    assert [row["id"] for row in first["data"]] == [ids[2], ids[1]]
    assert first["next_cursor"]
    rest = chatledger_json("sessions", "list", "--limit", "2", "--cursor", first["next_cursor"])
    assert [row["id"] for row in rest["data"]] == [ids[0]]
    assert rest["next_cursor"] is None
    skipped = chatledger_json("sessions", "list", "--offset", "1", "--limit", "1")
    assert [row["id"] for row in skipped["data"]] == [ids[1]]


def test_a_table_page_tells_how_to_continue(chatledger: Run, chatledger_json: RunJson) -> None:
    for title in ("one", "two"):
        chatledger_json("sessions", "create", "--title", title)
    cursor = chatledger_json("sessions", "list", "--limit", "1")["next_cursor"]

    table = chatledger("sessions", "list", "--limit", "1").stdout

    assert f"--cursor {cursor}" in table


def test_tenant_and_actor_options_scope_and_sign_the_commands(
    chatledger: Run, chatledger_json: RunJson, one_line_error: Callable[..., str]
) -> None:
    session_id = chatledger_json(
        "sessions", "create", "--title", "theirs", "--tenant", "acme", "--actor", "ops@acme"
    )["id"]

    assert chatledger_json("sessions", "list")["data"] == []
    assert [r["id"] for r in chatledger_json("sessions", "list", "--tenant", "acme")["data"]] == [
        session_id
    ]
    elsewhere = chatledger("sessions", "show", session_id, exit_code=1)
    one_line_error(elsewhere, 1, "not found")
    events = chatledger_json("events", session_id, "--tenant", "acme")["data"]
    assert [(e["tenant_id"], e["actor"]) for e in events] == [("acme", "ops@acme")]
