"""Replay for evaluation: deterministic (no provider calls, same transcript) and counterfactual."""

from __future__ import annotations

import json

import pytest

from adapters.ledger import Ledger
from adapters.llm.offline import ScriptedChatModel, ScriptedReply
from adapters.replay import transcript
from adapters.replay_report import render_html
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.message import Message
from domain.session import Session
from tests.support.fake_provider import FakeProvider
from tests.support.fake_provider_script import Reply, ToolCall

CTX = CommandContext(tenant_id="t1", actor="eval")


@pytest.fixture
def ledger(chat_ledger: Ledger) -> Ledger:
    return chat_ledger


def recorded_conversation(ledger: Ledger, fake_provider: FakeProvider, suite: str = "s") -> str:
    session = ledger.create_session(CTX, situation="Be brief.", metadata={"suite": suite})
    fake_provider.script(
        Reply(text="Oslo is cold.\nBring a coat.", chunks=3),
        Reply(tool_calls=(ToolCall("forecast", {"city": "Oslo"}, id="call_1"),)),
        Reply(text="Snow tomorrow."),
        Reply(text="(not remembered)"),
    )
    ledger.chat(CTX, session.id, "What is Oslo like?")
    ledger.chat(CTX, session.id, "Forecast?", tools=[{"name": "forecast"}])
    tool_result = Message.model_validate(
        {
            "role": "tool",
            "content": [
                {
                    "type": "tool_result",
                    "tool_call_id": "call_1",
                    "content": [{"type": "text", "text": "snow"}],
                }
            ],
        }
    )
    ledger.chat(CTX, session.id, tool_result)
    ledger.update_session(CTX, session.id, SessionUpdate(situation="Be very brief."))
    ledger.append_messages(CTX, session.id, [Message.user("a note, no model")])
    ledger.chat(CTX, session.id, "Off the record?", remember=False)
    return str(session.id)


def test_deterministic_replay_rebuilds_the_transcript_without_calling_any_provider(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session_id = recorded_conversation(ledger, fake_provider)
    calls_before = fake_provider.calls

    report = ledger.replay(CTX, session_id)

    assert fake_provider.calls == calls_before, "zero provider calls"
    assert report.identical and len(report.turns) == 4
    assert all(turn.identical and turn.diff == "" for turn in report.turns)
    assert transcript(ledger, "t1", report.branch_session_id) == transcript(
        ledger, "t1", session_id
    )
    (forked,) = ledger.list_events("t1", report.branch_session_id, limit=1).data
    assert isinstance(forked, Session.Forked) and forked.source_id == session_id
    assert forked.metadata["replay_of"] == session_id
    branch = ledger.get_session("t1", report.branch_session_id)
    assert branch.situation == "Be very brief."


def test_counterfactual_replay_reports_where_each_turn_diverges(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    session_id = recorded_conversation(ledger, fake_provider)
    ledger.register_model(
        "candidate",
        ScriptedChatModel(
            [
                ScriptedReply(text="Oslo is cold.\nBring gloves.", output_tokens=6),
                ScriptedReply(text="I will not call tools."),
                ScriptedReply(text="Snow tomorrow."),
                ScriptedReply(text="Sure."),
            ]
        ),
    )

    report = ledger.replay(CTX, session_id, mode="counterfactual", provider="candidate")

    assert not report.identical and report.first_divergent_turn == 0
    first, second, third, _ = report.turns
    assert first.first_divergence == len("Oslo is cold.\nBring ")
    assert "-Bring a coat." in first.diff and "+Bring gloves." in first.diff
    assert first.replayed_tokens["output"] == 6
    assert (second.original_finish_reason, second.replayed_finish_reason) == ("tool_call", "stop")
    assert third.identical
    assert (
        transcript(ledger, "t1", session_id)[0]
        == transcript(ledger, "t1", report.branch_session_id)[0]
    )


def test_a_batch_replays_the_sessions_a_metadata_filter_selects(
    ledger: Ledger, fake_provider: FakeProvider
) -> None:
    chosen = [recorded_conversation(ledger, fake_provider, suite="nightly") for _ in range(2)]
    recorded_conversation(ledger, fake_provider, suite="other")
    progress: list[tuple[int, int]] = []

    batch = ledger.replay_batch(
        CTX, {"suite": "nightly"}, on_progress=lambda done, total: progress.append((done, total))
    )

    assert sorted(r.source_session_id for r in batch.reports) == sorted(chosen)
    assert progress == [(1, 2), (2, 2)]
    assert batch.turns == 8 and batch.identical_turns == 8 and batch.identical_sessions == 2
    page = render_html(batch)
    assert page.startswith("<!doctype html>") and all(sid in page for sid in chosen)
    assert json.loads(batch.model_dump_json())["sessions"] == 2
    again = ledger.replay_batch(CTX, {"suite": "nightly"})
    assert again.sessions == 2, "replay branches are not replayed again"
