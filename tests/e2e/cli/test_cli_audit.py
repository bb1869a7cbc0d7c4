"""`chatledger audit`: the tenant's trail as a table, JSON, NDJSON or CSV, filtered."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]


def make_trail(chatledger_json: RunJson) -> str:
    """A session by alice (created, one message), an agent by bob, a session in tenant t2."""
    sid = str(chatledger_json("sessions", "create", "--title", "Trip", "--actor", "alice")["id"])
    chatledger_json("append", sid, "Hello", "--actor", "alice")
    chatledger_json("agents", "create", "--name", "helper", "--actor", "bob")
    chatledger_json("sessions", "create", "--tenant", "t2", "--actor", "carol")
    return sid


def test_a_page_as_json_shows_the_tenants_events_only(chatledger_json: RunJson) -> None:
    sid = make_trail(chatledger_json)

    page = chatledger_json("audit")
    other = chatledger_json("audit", "--tenant", "t2")

    assert [(e["type"], e["actor"]) for e in page["data"]] == [
        ("Session.Created", "alice"),
        ("Session.MessageAppended", "alice"),
        ("Agent.Created", "bob"),
    ]
    assert page["data"][0]["session_id"] == sid
    assert [(e["type"], e["actor"]) for e in other["data"]] == [("Session.Created", "carol")]


def test_filters_and_paging(chatledger_json: RunJson) -> None:
    sid = make_trail(chatledger_json)
    everything = chatledger_json("audit")["data"]

    def types(*args: str) -> list[str]:
        return [e["type"] for e in chatledger_json("audit", *args)["data"]]

    assert types("--actor", "bob") == ["Agent.Created"]
    assert types("--session", sid, "--type", "Session.") == [
        "Session.Created",
        "Session.MessageAppended",
    ]
    assert types("--since", everything[1]["recorded_at"]) == [
        "Session.MessageAppended",
        "Agent.Created",
    ]
    assert types("--until", everything[1]["recorded_at"]) == ["Session.Created"]
    first = chatledger_json("audit", "--limit", "2")
    rest = chatledger_json("audit", "--limit", "2", "--cursor", first["next_cursor"])
    assert first["data"] + rest["data"] == everything and rest["next_cursor"] is None


def test_the_table_names_who_did_what(chatledger: Run, chatledger_json: RunJson) -> None:
    make_trail(chatledger_json)

    table = chatledger("audit").stdout

    assert "Session.MessageAppended" in table and "alice" in table and "bob" in table
    assert "carol" not in table


def test_ndjson_and_csv_hold_every_entry_on_stdout_or_in_a_file(
    chatledger: Run, chatledger_json: RunJson, tmp_path: Path
) -> None:
    make_trail(chatledger_json)
    everything = chatledger_json("audit")["data"]
    target = tmp_path / "audit.csv"

    ndjson = chatledger("audit", "--format", "ndjson", "--limit", "1").stdout
    written = chatledger("audit", "--format", "csv", "--out", str(target))

    assert [json.loads(line) for line in ndjson.splitlines()] == everything
    assert written.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows == [{k: "" if v is None else str(v) for k, v in e.items()} for e in everything]


def test_bad_filters_are_one_line_errors(chatledger: Run, one_line_error: OneLineError) -> None:
    one_line_error(chatledger("audit", "--since", "yesterday", exit_code=2), 2, "--since")
    one_line_error(chatledger("audit", "--cursor", "nope", exit_code=2), 2, "cursor")
    one_line_error(chatledger("audit", "--limit", "0", exit_code=2), 2, "limit")
    one_line_error(chatledger("audit", "--out", "x.txt", exit_code=2), 2, "--out")
    one_line_error(
        chatledger("audit", "--format", "csv", "--cursor", "nope", exit_code=2), 2, "cursor"
    )
