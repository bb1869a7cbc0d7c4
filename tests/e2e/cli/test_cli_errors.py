"""Every failure is one `error: …` line on stderr, exit 2 for usage and input, 1 otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "show", UNKNOWN],
        ["sessions", "update", UNKNOWN, "--title", "x"],
        ["sessions", "delete", UNKNOWN],
        ["history", UNKNOWN],
        ["append", UNKNOWN, "hello"],
        ["clear", UNKNOWN],
        ["events", UNKNOWN],
        ["show", UNKNOWN, "--version", "1"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_unknown_session_is_one_line_and_exit_1(
    chatledger: Run, one_line_error: OneLineError, args: list[str]
) -> None:
    result = chatledger(*args, exit_code=1)

    one_line_error(result, 1, f"session {UNKNOWN} not found")


def test_a_malformed_session_id_is_an_unknown_session(
    chatledger: Run, one_line_error: OneLineError
) -> None:
    result = chatledger("sessions", "show", "not-a-session-id", exit_code=1)

    one_line_error(result, 1, "session not-a-session-id not found")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["sessions", "create", "--metadata", "{not json"], "--metadata: not valid JSON"),
        (["sessions", "create", "--metadata", "[1, 2]"], "--metadata: must be a JSON object"),
        (["sessions", "create", "--context", '{"a": "\\u0000"}'], "NUL character"),
        (["sessions", "list", "--metadata-filter", "nope"], "--metadata-filter: not valid JSON"),
        (["sessions", "list", "--limit", "0"], "limit: must be between 1 and 1000"),
        (["sessions", "list", "--cursor", "bogus"], "cursor: is not a cursor"),
        (["sessions", "list", "--order", "sideways"], "Invalid value for '--order'"),
        (["sessions", "list", "--no-such-option"], "No such option: --no-such-option"),
        (["sessions", "update", UNKNOWN], "nothing to update"),
        (["history"], "Missing argument"),
        (["append", UNKNOWN], "exactly one"),
        (["append", UNKNOWN, "hi", "--json-message", "{}"], "not TEXT and --json-message"),
        (
            ["append", UNKNOWN, "--json-message", '{"role": "user"}'],
            "--json-message: content: Field required",
        ),
        (
            ["append", UNKNOWN, "--json-message", '{"role": "user", "content": "x", "colour": 1}'],
            "colour: Extra inputs",
        ),
        (
            [
                "append",
                UNKNOWN,
                "--role",
                "tool",
                "--json-message",
                '{"role": "user", "content": "x"}',
            ],
            "--role applies to TEXT",
        ),
        (
            ["append", UNKNOWN, "--file", "/no/such/file.json"],
            "--file: cannot read /no/such/file.json",
        ),
        (["show", UNKNOWN], "exactly one of --version N and --at TIME"),
        (["show", UNKNOWN, "--version", "1", "--at", "2025-01-01T00:00:00Z"], "exactly one of"),
        (["show", UNKNOWN, "--at", "yesterday"], "--at: expected an RFC 3339 time"),
        (["show", UNKNOWN, "--at", "2025-01-01T00:00:00"], "needs a UTC offset"),
        (
            ["projections", "rebuild", "nope"],
            "unknown projection 'nope' (known: agent_list, api_keys, audit, completions, history,"
            " session_list)",
        ),
        (["projections", "run", "--interval", "0"], "--interval must be positive"),
        (["serve", "--host", "0.0.0.0"], "refusing to listen on 0.0.0.0"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_usage_or_input_error_is_one_line_and_exit_2(
    chatledger: Run, one_line_error: OneLineError, args: list[str], fragment: str
) -> None:
    result = chatledger(*args, exit_code=2)

    one_line_error(result, 2, fragment)


def test_time_travel_outside_the_stream_is_an_input_error(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    too_far = chatledger("show", session_id, "--version", "2", exit_code=2)
    too_early = chatledger("show", session_id, "--at", "2000-01-01T00:00:00Z", exit_code=2)

    one_line_error(too_far, 2, "version: must be between 1 and 1, got 2")
    one_line_error(too_early, 2, "the session did not exist yet")


def test_a_message_batch_is_refused_whole(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    batch = {"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": []}]}

    refused = chatledger("append", session_id, "--json-message", json.dumps(batch), exit_code=2)

    one_line_error(refused, 2, "messages[1].content")
    assert chatledger_json("history", session_id)["data"] == []


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root@localhost/db", "unsupported database URL"),
        ("sqlite://relative.db", "expected sqlite:///PATH"),
        ("postgresql://postgres@/db", "expected postgresql://USER@HOST:PORT/DB"),
    ],
)
def test_an_invalid_database_url_is_one_line_and_exit_2(
    run_cli: Run, one_line_error: OneLineError, url: str, fragment: str
) -> None:
    result = run_cli("sessions", "list", "--database-url", url, exit_code=2)

    one_line_error(result, 2, fragment)


def test_an_unreachable_database_is_one_line_and_exit_1(
    run_cli: Run, one_line_error: OneLineError, tmp_path: Path
) -> None:
    refused = run_cli(
        "sessions", "list", "--database-url", "postgresql://postgres@127.0.0.1:1/chatledger",
        exit_code=1,
    )  # fmt: skip
    missing_dir = run_cli(
        "sessions", "list", "--database-url", f"sqlite:///{tmp_path}/no/such/dir/x.db",
        exit_code=1,
    )  # fmt: skip

    one_line_error(refused, 1, "cannot connect to PostgreSQL at 127.0.0.1:1/chatledger")
    one_line_error(missing_dir, 1, "database: unable to open database file")


def test_a_bad_environment_setting_is_one_line_and_exit_2(
    run_cli: Run, one_line_error: OneLineError, sqlite_url: str
) -> None:
    result = run_cli(
        "sessions", "list", "--database-url", sqlite_url,
        env={"CHATLEDGER_PROJECTIONS": "sometimes"}, exit_code=2,
    )  # fmt: skip

    one_line_error(result, 2, "configuration: projections:")
