"""`chatledger replay|summarize`: replays of recorded turns (one session or a batch chosen by
metadata) reported as tables, JSON and HTML, and summaries that stand in for history.
Turns are recorded through the Python API with the offline provider; counterfactual replays
ask the `scripted` provider."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from domain.context import CommandContext

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]
Record = Callable[..., str]

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SCRIPTED_ANSWER = "Scripted."


@pytest.fixture
def record(database_url: str) -> Record:
    """Make a session with one offline turn per input (and these metadata); its id."""

    def make(*inputs: str, metadata: dict[str, Any] | None = None) -> str:
        ledger = open_ledger(Settings(database_url=database_url, default_provider="offline"))
        try:
            ctx = CommandContext(tenant_id="local", actor="test")
            session = ledger.create_session(ctx, title="recorded", metadata=metadata or {})
            for text in inputs:
                ledger.chat(ctx, session.id, text)
            return str(session.id)
        finally:
            ledger.close()

    return make


@pytest.fixture
def scripted(tmp_path: Path) -> dict[str, str]:
    """The environment that serves the `scripted` provider, answering every turn alike."""
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([SCRIPTED_ANSWER]))
    return {"CHATLEDGER_SCRIPTED_REPLIES": str(script)}


def transcript(chatledger_json: RunJson, session_id: str) -> list[tuple[str, Any]]:
    messages = chatledger_json("history", session_id)["data"]
    return [(m["role"], m["content"]) for m in messages]


def session_ids(chatledger_json: RunJson) -> list[str]:
    return sorted(s["id"] for s in chatledger_json("sessions", "list")["data"])


def test_a_deterministic_replay_is_identical_turn_by_turn(
    chatledger: Run, chatledger_json: RunJson, record: Record
) -> None:
    sid = record("Hello", "What about Oslo?")

    report = chatledger_json("replay", sid)
    table = chatledger("replay", sid, "--mode", "deterministic")

    assert report["identical"] is True and report["first_divergent_turn"] is None
    assert (report["source_session_id"], report["mode"]) == (sid, "deterministic")
    assert [t["input"] for t in report["turns"]] == ["Hello", "What about Oslo?"]
    assert all(t["identical"] and t["first_divergence"] is None for t in report["turns"])
    branch = report["branch_session_id"]
    assert transcript(chatledger_json, branch) == transcript(chatledger_json, sid)
    assert chatledger_json("sessions", "show", branch)["metadata"]["replay_of"] == sid
    lines = table.stdout.splitlines()
    assert lines[0].startswith(f"replay of {sid} (deterministic) into ")
    assert "turn" in lines[2] and "first divergence" in lines[2] and "finish" in lines[2]
    assert "Hello" in table.stdout and "stop → stop" in table.stdout
    assert "differs" not in table.stdout
    assert lines[-1] == "identical: 2/2 turns and the transcript are the same"
    assert table.stderr == ""


def test_a_counterfactual_replay_that_differs_says_so_exits_0_and_writes_html(
    chatledger: Run,
    chatledger_json: RunJson,
    record: Record,
    scripted: dict[str, str],
    tmp_path: Path,
) -> None:
    sid = record("Hello", "What about Oslo?")
    page = tmp_path / "replay.html"

    result = chatledger(
        "replay", sid, "--mode", "counterfactual", "--provider", "scripted",
        "--settings", '{"temperature": 0}', "--html", str(page), env=scripted,
    )  # fmt: skip
    report = json.loads(
        chatledger(
            "replay", sid, "--mode", "counterfactual", "--provider", "scripted", "--json",
            env=scripted,
        ).stdout
    )  # fmt: skip

    assert result.exit_code == 0
    assert "differs" in result.stdout
    assert result.stdout.splitlines()[-1] == "differs: first at turn 0; 0/2 turns identical"
    assert "char 0" in result.stdout
    branch = result.stdout.splitlines()[0].rsplit(" ", 1)[-1]
    calls = [
        (e["data"]["provider"], e["data"]["settings"]["temperature"])
        for e in chatledger_json("events", branch)["data"]
        if e["type"] == "Session.CompletionRecorded"
    ]
    assert calls == [("scripted", 0)] * 2
    assert result.stderr == f"wrote the HTML report to {page}\n"
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    assert "<table>" in html and sid in html and "differs" in html
    assert SCRIPTED_ANSWER in html
    assert report["identical"] is False and report["first_divergent_turn"] == 0
    assert (report["mode"], report["provider"]) == ("counterfactual", "scripted")
    assert [t["replayed"] for t in report["turns"]] == [SCRIPTED_ANSWER] * 2
    assert all(not t["identical"] and t["first_divergence"] == 0 for t in report["turns"])


def test_a_batch_replays_the_sessions_its_filter_selects_with_a_json_and_an_html_report(
    chatledger: Run, chatledger_json: RunJson, record: Record, tmp_path: Path
) -> None:
    chosen = sorted(record("Hi", metadata={"suite": "nightly", "n": n}) for n in (1, 2))
    record("Hi", metadata={"suite": "other"})
    report_file, page = tmp_path / "batch.json", tmp_path / "batch.html"

    result = chatledger(
        "replay", "--filter", '{"suite": "nightly"}',
        "--report", str(report_file), "--html", str(page),
    )  # fmt: skip

    batch = json.loads(report_file.read_text())
    assert sorted(r["source_session_id"] for r in batch["reports"]) == chosen
    assert (batch["sessions"], batch["turns"], batch["identical_sessions"]) == (2, 2, 2)
    assert batch["metadata_filter"] == {"suite": "nightly"}
    html = page.read_text()
    assert all(sid in html for sid in chosen) and "identical" in html
    assert all(sid in result.stdout for sid in chosen)
    assert "sessions" in result.stdout and "turns" in result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "identical: 2/2 sessions and 2/2 turns identical"
    )
    assert result.stderr.splitlines() == [
        f"wrote the report to {report_file}",
        f"wrote the HTML report to {page}",
    ]
    again = chatledger_json("replay", "--filter", '{"suite": "nightly"}')
    assert again["sessions"] == 2, "replay branches are not replayed again"
    none = chatledger("replay", "--filter", '{"suite": "none"}').stdout
    assert none.startswith("no sessions to replay")


def test_a_batch_on_a_terminal_shows_a_progress_bar(
    chatledger: Run, record: Record, scripted: dict[str, str]
) -> None:
    record("Hi", metadata={"suite": "nightly"})

    # FORCE_COLOR makes rich treat the captured stderr as a terminal.
    result = chatledger(
        "replay", "--filter", '{"suite": "nightly"}', "--mode", "counterfactual",
        "--provider", "scripted", "--json", env={**scripted, "FORCE_COLOR": "1"},
    )  # fmt: skip

    assert json.loads(result.stdout)["identical_sessions"] == 0
    assert "replaying" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["replay"], "give a session ID or --filter JSON (exactly one)"),
        (["replay", "{sid}", "--filter", "{{}}"], "give a session ID or --filter JSON"),
        (["replay", "{sid}", "--provider", "scripted"], "--provider: for counterfactual replay"),
        (["replay", "{sid}", "--model", "m", "--settings", "{{}}"], "--model and --settings"),
        (["replay", "{sid}", "--mode", "sideways"], "'--mode'"),
        (["replay", "{sid}", "--mode", "counterfactual", "--provider", "nope"], "nope"),
        (
            ["replay", "{sid}", "--mode", "counterfactual", "--settings", '{{"temperature": 9}}'],
            "--settings: temperature",
        ),
        (["replay", "--filter", "[1]"], "--filter"),
        (["replay", "{sid}", "--html", "{tmp}/no/such/dir.html"], "--html: no such directory"),
    ],
    ids=[
        "neither",
        "both",
        "provider",
        "model-and-settings",
        "mode",
        "unknown-provider",
        "bad-settings",
        "filter-not-object",
        "html-dir",
    ],
)
def test_replay_options_that_cannot_hold_are_refused_before_any_branch(
    chatledger: Run,
    chatledger_json: RunJson,
    record: Record,
    one_line_error: OneLineError,
    tmp_path: Path,
    args: list[str],
    fragment: str,
) -> None:
    sid = record("Hello")
    before = session_ids(chatledger_json)

    result = chatledger(*(a.format(sid=sid, tmp=tmp_path) for a in args), exit_code=2)

    one_line_error(result, 2, fragment)
    assert session_ids(chatledger_json) == before


def test_replaying_an_unknown_session_fails_with_one_line(
    chatledger: Run, one_line_error: OneLineError
) -> None:
    one_line_error(chatledger("replay", UNKNOWN, exit_code=1), 1, f"session {UNKNOWN} not found")


def test_a_summary_given_as_text_stands_in_for_the_history(
    chatledger: Run, chatledger_json: RunJson, record: Record
) -> None:
    sid = record("I plan a trip to Oslo in May", "Budget is 2000 EUR")

    session = chatledger_json("summarize", sid, "--text", "Trip to Oslo in May, 2000 EUR.")

    [summary] = session["summaries"]
    assert summary["text"] == "Trip to Oslo in May, 2000 EUR."
    assert (summary["from_version"], summary["to_version"]) == (2, 7)
    assert session["id"] == sid and session["message_count"] == 4
    assert len(chatledger_json("history", sid)["data"]) == 4, "the originals stay"
    assert chatledger_json("events", sid)["data"][-1]["type"] == "Session.Summarized"
    chatledger_json("append", sid, "And the hotel?")
    table = chatledger("summarize", sid, "--text", "Hotel too.", "--up-to-version", "9").stdout
    assert "summaries" in table and "2–7" in table and "9–9" in table and "Hotel too." in table


def test_a_summary_written_by_the_sessions_model_is_recorded(
    chatledger_json: RunJson, record: Record
) -> None:
    sid = record("I plan a trip to Oslo in May")

    session = chatledger_json("summarize", sid)

    [summary] = session["summaries"]
    assert summary["text"] and (summary["from_version"], summary["to_version"]) == (2, 4)
    types = [e["type"] for e in chatledger_json("events", sid)["data"]]
    assert types[-2:] == ["Session.CompletionRecorded", "Session.Summarized"]


def test_a_summary_needs_messages_to_stand_in_for(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError
) -> None:
    sid = chatledger_json("sessions", "create")["id"]

    one_line_error(chatledger("summarize", sid, "--text", "x", exit_code=2), 2, "messages")
    one_line_error(chatledger("summarize", sid, "--text", " ", exit_code=2), 2, "--text is empty")
    unknown = chatledger("summarize", UNKNOWN, "--text", "x", exit_code=1)
    one_line_error(unknown, 1, "not found")
