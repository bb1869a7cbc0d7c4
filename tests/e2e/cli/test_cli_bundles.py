"""`chatledger export|import`: bundles written as they stream, verified and idempotent on import,
byte-identical after a round trip through the other backend."""

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


@pytest.fixture
def other_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """A fresh database on the other backend (PostgreSQL for SQLite, and back)."""
    other = "sqlite_url" if database_url.startswith("postgresql") else "postgres_url"
    url = request.getfixturevalue(other)
    assert isinstance(url, str)
    return url


def make_session(chatledger_json: RunJson) -> str:
    """A session with a title change and two messages (5 events)."""
    sid = str(chatledger_json("sessions", "create", "--title", "Trip")["id"])
    chatledger_json("append", sid, "Hello")
    chatledger_json("append", sid, "Lisbon or Porto?", "--role", "assistant")
    chatledger_json("sessions", "update", sid, "--metadata", '{"team": "travel"}')
    return sid


def test_an_export_streams_the_same_bundle_to_stdout_and_to_a_file(
    chatledger: Run, chatledger_json: RunJson, tmp_path: Path
) -> None:
    sid = make_session(chatledger_json)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "trip.ndjson"

    to_stdout = chatledger("export", sid)
    to_file = chatledger("export", sid, "-o", str(target))
    dashed = chatledger("export", sid, "--output", "-")

    assert to_stdout.stderr == ""
    assert to_file.stdout == ""
    assert target.read_bytes() == to_stdout.stdout_bytes == dashed.stdout_bytes
    lines = [json.loads(line) for line in target.read_bytes().splitlines()]
    assert lines[0]["session_id"] == sid and lines[0]["format"] == "chatledger.bundle"
    assert [line["version"] for line in lines[1:-1]] == [1, 2, 3, 4]
    assert lines[-1]["events"] == 4
    size = target.stat().st_size
    assert to_file.stderr == f"exported 4 events (1 session, {size} bytes) to {target}\n"
    assert [p.name for p in target.parent.iterdir()] == ["trip.ndjson"], "no temporary file left"


def test_a_bundle_imported_into_the_other_backend_exports_byte_identical(
    chatledger: Run, chatledger_json: RunJson, run_cli: Run, other_url: str, tmp_path: Path
) -> None:
    sid = make_session(chatledger_json)
    bundle = tmp_path / "trip.ndjson"
    chatledger("export", sid, "-o", str(bundle))

    imported = run_cli("import", str(bundle), "--json", "--database-url", other_url)
    again = run_cli("import", str(bundle), "--json", "--database-url", other_url)
    exported = run_cli("export", sid, "--database-url", other_url)

    assert json.loads(imported.stdout) == {"session_id": sid, "imported": 4, "skipped": 0}
    assert json.loads(again.stdout) == {"session_id": sid, "imported": 0, "skipped": 4}
    assert exported.stdout_bytes == bundle.read_bytes()
    shown = json.loads(
        run_cli("sessions", "show", sid, "--json", "--database-url", other_url).stdout
    )
    assert (shown["title"], shown["metadata"], shown["message_count"]) == (
        "Trip",
        {"team": "travel"},
        2,
    )
    table = run_cli("import", str(bundle), "--database-url", other_url).stdout
    assert sid in table and "0 events" in table and "4 events (already stored)" in table


def test_an_import_reads_stdin_and_can_give_the_session_a_new_id(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    sid = make_session(chatledger_json)
    bundle = chatledger("export", sid).stdout
    new_id = "11111111-2222-4333-8444-555555555555"

    imported = chatledger_json("import", "-", "--new-id", new_id, stdin=bundle)

    assert imported == {"session_id": new_id, "imported": 4, "skipped": 0}
    copy = chatledger_json("sessions", "show", new_id, "--messages")
    assert [m["content"][0]["text"] for m in copy["messages"]] == ["Hello", "Lisbon or Porto?"]
    assert chatledger_json("sessions", "show", sid)["version"] == 4


def test_a_fork_exported_with_its_sources_imports_into_an_empty_database(
    chatledger: Run, chatledger_json: RunJson, run_cli: Run, other_url: str, tmp_path: Path
) -> None:
    sid = make_session(chatledger_json)
    fork = chatledger_json("fork", sid, "--at-version", "2")["id"]
    alone, whole = tmp_path / "alone.ndjson", tmp_path / "whole.ndjson"
    chatledger("export", fork, "-o", str(alone))

    exported = chatledger("export", fork, "--with-sources", "-o", str(whole))
    refused = run_cli("import", str(alone), "--database-url", other_url, exit_code=2)
    imported = run_cli("import", str(whole), "--json", "--database-url", other_url)

    assert "(2 sessions," in exported.stderr
    assert f"reads its history from {sid}" in refused.stderr
    assert json.loads(imported.stdout) == {"session_id": fork, "imported": 5, "skipped": 0}
    shown = run_cli("sessions", "show", fork, "--messages", "--json", "--database-url", other_url)
    assert [m["origin"]["session_id"] for m in json.loads(shown.stdout)["messages"]] == [sid]


def test_a_tampered_bundle_is_refused_naming_its_first_bad_line_and_nothing_is_stored(
    chatledger: Run,
    chatledger_json: RunJson,
    run_cli: Run,
    other_url: str,
    one_line_error: OneLineError,
    tmp_path: Path,
) -> None:
    sid = make_session(chatledger_json)
    bundle = tmp_path / "trip.ndjson"
    chatledger("export", sid, "-o", str(bundle))
    lines = bundle.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"Hello", b"Hullo")
    bundle.write_bytes(b"".join(lines))

    result = run_cli("import", str(bundle), "--database-url", other_url, exit_code=2)

    line = one_line_error(result, 2, "error: bundle: line 3: checksum mismatch")
    assert f"session {sid}, version 2" in line
    listed = run_cli("sessions", "list", "--json", "--database-url", other_url)
    assert json.loads(listed.stdout)["data"] == []


def test_export_and_import_failures_are_one_line(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError, tmp_path: Path
) -> None:
    sid = make_session(chatledger_json)
    target = tmp_path / "unknown.ndjson"

    unknown = chatledger("export", UNKNOWN, "-o", str(target), exit_code=1)
    no_dir = chatledger("export", sid, "-o", str(tmp_path / "no" / "x.ndjson"), exit_code=2)
    missing = chatledger("import", str(tmp_path / "missing.ndjson"), exit_code=2)
    not_a_bundle = chatledger("import", "-", stdin="hello\nworld\n", exit_code=2)
    bad_id = chatledger("import", "-", "--new-id", "nope", stdin="", exit_code=2)

    one_line_error(unknown, 1, f"session {UNKNOWN} not found")
    assert not target.exists()
    one_line_error(no_dir, 2, "--output: no such directory")
    one_line_error(missing, 2, "cannot read", "missing.ndjson")
    one_line_error(not_a_bundle, 2, "error: bundle: line 1: not JSON")
    one_line_error(bad_id, 2, "'--new-id'")
