"""`chatledger projections status|rebuild|run`: the views, and the worker that feeds them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.message import Message
from projections.session_list import SessionQuery

Run = Callable[..., Result]
RunJson = Callable[..., Any]

PROJECTIONS = {"session_list", "history", "agent_list", "completions", "api_keys", "audit"}


def make_sessions(chatledger_json: RunJson, count: int) -> list[str]:
    ids = []
    for n in range(count):
        session_id = chatledger_json("sessions", "create", "--title", f"s{n}")["id"]
        chatledger_json("append", session_id, f"hello {n}")
        ids.append(session_id)
    return ids


def test_status_shows_each_view_at_the_head_of_the_log(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    make_sessions(chatledger_json, 2)

    status = chatledger_json("projections", "status")

    assert {row["name"] for row in status["data"]} == PROJECTIONS
    assert all(row["position"] == row["head"] == 4 and row["lag"] == 0 for row in status["data"])
    table = chatledger("projections", "status").stdout
    assert "session_list" in table
    assert "history" in table


def test_a_rebuilt_view_lists_exactly_what_it_listed_before(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    ids = make_sessions(chatledger_json, 3)
    chatledger_json("sessions", "update", ids[0], "--metadata", '{"pinned": true}')
    chatledger_json("sessions", "delete", ids[1])
    sessions_before = chatledger_json("sessions", "list", "--include-deleted")
    history_before = chatledger_json("history", ids[2])
    audit_before = chatledger_json("audit")

    rebuilt = chatledger_json("projections", "rebuild", "session_list")
    assert rebuilt == {"name": "session_list", "events_read": 8, "position": 8, "head": 8}
    assert chatledger_json("sessions", "list", "--include-deleted") == sessions_before

    assert chatledger("projections", "rebuild", "history").stdout == (
        "rebuilt history: 8 events read\n"
    )
    assert chatledger_json("history", ids[2]) == history_before

    assert chatledger_json("projections", "rebuild", "audit")["events_read"] == 8
    assert chatledger_json("audit") == audit_before


def test_a_rebuild_on_a_terminal_shows_a_progress_bar(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    make_sessions(chatledger_json, 2)

    # FORCE_COLOR makes rich treat the captured stderr as a terminal.
    result = chatledger("projections", "rebuild", "history", "--json", env={"FORCE_COLOR": "1"})

    assert json.loads(result.stdout)["events_read"] == 4
    assert "rebuilding history" in result.stderr


def wait_until(condition: Callable[[], bool], worker: subprocess.Popen[str], what: str) -> None:
    """Poll `condition` for up to 30 s, failing early if the worker died."""
    deadline = time.monotonic() + 30
    while not condition():
        if worker.poll() is not None:
            _, stderr = worker.communicate()
            raise AssertionError(f"the worker exited {worker.returncode}: {stderr}")
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_projection_worker_catches_up_and_stops_cleanly_on_sigterm(
    database_url: str, run_cli: Run, tmp_path: Path
) -> None:
    # A writer that leaves the views to workers and does not wait for them.
    settings = Settings(
        database_url=database_url, projections="external", read_your_writes_timeout=0
    )
    writer = open_ledger(settings)
    ctx = CommandContext(tenant_id=settings.tenant_id, actor="writer")

    def lags() -> list[int]:
        # Polled through the open writer: read-only, so it never races the worker's writes.
        return [status.lag for status in writer.projection_status()]

    try:
        first = writer.create_session(ctx, title="before the worker")
        writer.append_messages(ctx, first.id, [Message.user("queued")])
        assert set(lags()) == {2}, "nothing was projected inline"

        worker = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "projections", "run",
             "--database-url", database_url, "--interval", "0.05"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_until(lambda: set(lags()) == {0}, worker, "the worker caught up")
            second = writer.create_session(ctx, title="while the worker runs")
            writer.append_messages(ctx, second.id, [Message.user("live")])
            wait_until(lambda: set(lags()) == {0}, worker, "the worker caught up again")
            status = run_cli(
                "projections", "status", "--json", "--database-url", database_url,
                env={"CHATLEDGER_PROJECTIONS": "external"},  # so `status` projects nothing itself
            )  # fmt: skip
            assert {row["lag"] for row in json.loads(status.stdout)["data"]} == {0}
        finally:
            worker.send_signal(signal.SIGTERM)
            stdout, stderr = worker.communicate(timeout=30)

        assert worker.returncode == 0, stderr
        [started] = stdout.splitlines()
        assert started.startswith(
            "projection worker for session_list, history, agent_list, completions, api_keys,"
            " audit on "
        )
        assert "Traceback" not in stderr
        titles = [s.title for s in writer.list_sessions(SessionQuery(settings.tenant_id)).data]
        assert sorted(titles) == ["before the worker", "while the worker runs"]
        history = writer.list_messages(settings.tenant_id, second.id).data
        assert [entry.message.text for entry in history] == ["live"]
    finally:
        writer.close()
