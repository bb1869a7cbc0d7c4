"""`chatledger agents …`: create, list, show, update and delete, as tables and as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import Result

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.settings import Settings

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]

UNKNOWN = "00000000-0000-4000-8000-000000000000"
LOOKUP = {
    "name": "lookup",
    "description": "Find a word.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
}


def test_an_agent_is_created_listed_shown_updated_and_deleted(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    created = chatledger_json(
        "agents", "create", "--name", "Librarian", "--provider", "openai", "--model", "gpt-x",
        "--instructions", "Answer in one sentence.", "--settings", '{"temperature": 0.2}',
        "--tools", json.dumps([LOOKUP]), "--metadata", '{"team": "books"}',
    )  # fmt: skip

    assert (created["name"], created["provider"], created["model"]) == (
        "Librarian",
        "openai",
        "gpt-x",
    )
    assert created["instructions"] == "Answer in one sentence."
    assert created["settings"]["temperature"] == 0.2
    assert created["tools"] == [LOOKUP]
    assert created["metadata"] == {"team": "books"}
    assert (created["context_limit"], created["context_policy"]) == (None, "truncate")
    assert (created["version"], created["status"]) == (1, "active")
    agent_id = created["id"]

    assert chatledger_json("agents", "show", agent_id) == created
    table = chatledger("agents", "show", agent_id).stdout
    assert "Librarian" in table and "lookup" in table and '{"temperature": 0.2}' in table
    listed = chatledger_json("agents", "list")
    assert [(row["id"], row["name"], row["status"]) for row in listed["data"]] == [
        (agent_id, "Librarian", "active")
    ]
    assert listed["next_cursor"] is None
    assert agent_id in chatledger("agents", "list").stdout

    updated = chatledger_json("agents", "update", agent_id, "--model", "gpt-y", "--tools", "[]")
    assert (updated["model"], updated["tools"], updated["version"]) == ("gpt-y", [], 2)
    assert updated["instructions"] == "Answer in one sentence."  # fields not given stay
    assert updated["settings"] == created["settings"]

    deleted = chatledger_json("agents", "delete", agent_id)
    assert deleted["status"] == "deleted"
    assert chatledger_json("agents", "list")["data"] == []
    everything = chatledger_json("agents", "list", "--include-deleted")["data"]
    assert [(row["id"], row["status"]) for row in everything] == [(agent_id, "deleted")]
    assert "deleted" in chatledger("agents", "list", "--include-deleted").stdout


def test_instructions_and_tools_can_come_from_files_or_stdin(
    chatledger_json: RunJson, tmp_path: Path
) -> None:
    instructions = tmp_path / "instructions.md"
    instructions.write_text("You are terse.\nNever apologise.\n", encoding="utf-8")
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([LOOKUP]), encoding="utf-8")

    from_files = chatledger_json(
        "agents", "create", "--name", "files", "--instructions-file", str(instructions),
        "--tools-file", str(tools),
    )  # fmt: skip
    from_stdin = chatledger_json(
        "agents", "create", "--name", "pipe", "--instructions-file", "-", stdin="Read from a pipe."
    )

    assert from_files["instructions"] == "You are terse.\nNever apologise.\n"
    assert from_files["tools"] == [LOOKUP]
    assert from_stdin["instructions"] == "Read from a pipe."


def test_agents_are_listed_a_page_at_a_time(chatledger_json: RunJson) -> None:
    ids = [chatledger_json("agents", "create", "--name", f"a{n}")["id"] for n in range(3)]

    first = chatledger_json("agents", "list", "--limit", "2")
    rest = chatledger_json("agents", "list", "--limit", "2", "--cursor", first["next_cursor"])
    skipped = chatledger_json("agents", "list", "--offset", "1", "--order", "asc")

    assert [row["id"] for row in first["data"] + rest["data"]] == ids[::-1]
    assert rest["next_cursor"] is None
    assert [row["id"] for row in skipped["data"]] == ids[1:]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["agents", "show", UNKNOWN], f"agent {UNKNOWN} not found"),
        (["agents", "show", "not-an-id"], "agent not-an-id not found"),
        (["agents", "update", UNKNOWN, "--name", "x"], f"agent {UNKNOWN} not found"),
        (["agents", "delete", UNKNOWN], f"agent {UNKNOWN} not found"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_unknown_agent_is_one_line_and_exit_1(
    chatledger: Run, one_line_error: OneLineError, args: list[str], fragment: str
) -> None:
    one_line_error(chatledger(*args, exit_code=1), 1, fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "Missing option '--name'"),
        (["--name", ""], "--name: String should have at least 1 character"),
        (["--settings", "{nope"], "--settings: not valid JSON"),
        (["--settings", '{"temperature": 5}'], "--settings temperature: Input should be less"),
        (["--settings", '{"colour": "red"}'], "--settings colour: Extra inputs"),
        (["--tools", '{"name": "x"}'], "--tools: Input should be a valid list"),
        (["--tools", '[{"description": "no name"}]'], "--tools 0.name: Field required"),
        (["--tools", "[]", "--tools-file", "t.json"], "give --tools or --tools-file, not both"),
        (["--instructions-file", "/no/such/file"], "--instructions-file: cannot read"),
        (["--metadata", "[1]"], "--metadata: must be a JSON object"),
        (["--context-limit", "0"], "--context-limit: Input should be greater than or equal to 1"),
        (["--context-policy", "forget"], "Invalid value for '--context-policy'"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_agent_input_is_one_line_and_exit_2(
    chatledger: Run, one_line_error: OneLineError, args: list[str], fragment: str
) -> None:
    if "--name" not in args and args:
        args = ["--name", "bad", *args]
    one_line_error(chatledger("agents", "create", *args, exit_code=2), 2, fragment)


def test_an_update_needs_a_change_and_may_insist_on_a_version(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    agent_id = chatledger_json("agents", "create", "--name", "v1")["id"]

    nothing = chatledger("agents", "update", agent_id, exit_code=2)
    stale = chatledger(
        "agents", "update", agent_id, "--name", "v2", "--expected-version", "7", exit_code=1
    )

    one_line_error(nothing, 2, "nothing to update")
    one_line_error(stale, 1, "expected version 7, found version 1")
    assert chatledger_json("agents", "show", agent_id)["name"] == "v1"


def test_a_deleted_agent_is_gone_for_show_update_and_delete(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    agent_id = chatledger_json("agents", "create", "--name", "old")["id"]
    chatledger_json("agents", "delete", agent_id)

    for args in (["show"], ["update", "--name", "new"], ["delete"]):
        result = chatledger("agents", args[0], agent_id, *args[1:], exit_code=1)
        one_line_error(result, 1, f"agent {agent_id} was deleted")


def test_an_update_can_unset_the_provider_and_model_and_set_a_context_limit(
    chatledger_json: RunJson,
) -> None:
    agent_id = chatledger_json(
        "agents", "create", "--name", "pinned", "--provider", "openai", "--model", "gpt-x"
    )["id"]

    updated = chatledger_json(
        "agents", "update", agent_id, "--provider", "", "--model", "", "--context-limit", "2000",
        "--context-policy", "summarize",
    )  # fmt: skip

    assert (updated["provider"], updated["model"]) == (None, None)
    assert (updated["context_limit"], updated["context_policy"]) == (2000, "summarize")
    assert updated["name"] == "pinned"


@pytest.mark.anyio
async def test_the_json_output_is_what_the_http_api_answers(
    database_url: str, chatledger_json: RunJson
) -> None:
    agent_id = chatledger_json(
        "agents", "create", "--name", "Same", "--provider", "offline", "--tools",
        json.dumps([LOOKUP]), "--metadata", '{"team": "a"}',
    )["id"]  # fmt: skip
    chatledger_json("agents", "update", agent_id, "--instructions", "Be kind.")
    settings = Settings(database_url=database_url)
    ledger = open_ledger(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(ledger, settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
            shown = (await api.get(f"/v1/agents/{agent_id}")).json()
            listed = (await api.get("/v1/agents")).json()
    finally:
        ledger.close()

    assert chatledger_json("agents", "show", agent_id) == shown
    assert chatledger_json("agents", "list") == listed
