"""Replay and summaries over HTTP: deterministic and counterfactual replays of recorded
turns (JSON or HTML, one session or a batch), and summaries that stand in for history.
Turns are recorded with the offline provider; OpenAI is served by the fake provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from tests.support.fake_provider import FakeProvider, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings]) -> Settings:
    """The offline provider by default; OpenAI, Anthropic and Gemini served by the fake."""
    return make_fake_settings()


async def _session(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post("/v1/sessions", json=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _recorded(
    client: httpx.AsyncClient, *inputs: str, **fields: Any
) -> tuple[str, list[str]]:
    """A session with one offline turn per input; its id and the answers."""
    sid = await _session(client, **fields)
    answers = []
    for text in inputs:
        response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": text})
        assert response.status_code == 200, response.text
        answers.append(response.json()["output"])
    return sid, answers


async def _transcript(client: httpx.AsyncClient, sid: str) -> list[tuple[str, Any]]:
    data = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    return [(m["role"], m["content"]) for m in data]


async def _session_ids(client: httpx.AsyncClient) -> list[str]:
    return [s["id"] for s in (await client.get("/v1/sessions")).json()["data"]]


# Replay


async def test_a_deterministic_replay_rebuilds_the_conversation_without_asking_a_provider(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid, answers = await _recorded(client, "Hello", "What about Oslo?", "Thanks")
    note = {"role": "user", "content": "a note, no model"}
    assert (await client.post(f"/v1/sessions/{sid}/messages", json=note)).status_code == 201

    response = await client.post(f"/v1/sessions/{sid}/replay", json={"mode": "deterministic"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["identical"] is True and report["first_divergent_turn"] is None
    assert report["source_session_id"] == sid and report["mode"] == "deterministic"
    assert [t["input"] for t in report["turns"]] == ["Hello", "What about Oslo?", "Thanks"]
    assert [t["replayed"] for t in report["turns"]] == answers
    assert all(t["identical"] and t["diff"] == "" for t in report["turns"])
    branch = report["branch_session_id"]
    assert await _transcript(client, branch) == await _transcript(client, sid)
    assert (await client.get(f"/v1/sessions/{branch}")).json()["metadata"]["replay_of"] == sid
    assert fake_provider.calls == 0
    defaulted = await client.post(f"/v1/sessions/{sid}/replay")
    assert defaulted.status_code == 200 and defaulted.json()["identical"] is True


async def test_a_counterfactual_replay_against_another_provider_reports_each_turns_divergence(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid, answers = await _recorded(client, "Hello", "What about Oslo?")
    fake_provider.script(Reply(text=answers[0]), Reply(text="Oslo is cold."))

    response = await client.post(
        f"/v1/sessions/{sid}/replay",
        json={
            "mode": "counterfactual",
            "provider": "openai",
            "model": "gpt-test",
            "settings": {"temperature": 0},
        },
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["mode"], report["provider"], report["model"]) == (
        "counterfactual",
        "openai",
        "gpt-test",
    )
    first, second = report["turns"]
    assert first["identical"] is True and first["first_divergence"] is None
    assert second["identical"] is False
    assert second["replayed"] == "Oslo is cold."
    assert second["first_divergence"] == 0
    assert "+Oslo is cold." in second["diff"] and f"-{answers[1]}" in second["diff"]
    assert report["identical"] is False and report["first_divergent_turn"] == 1
    assert fake_provider.calls == 2
    sent = fake_provider.requests[-1].body
    assert (sent["model"], sent["temperature"]) == ("gpt-test", 0)
    assert [m["content"] for m in sent["messages"] if m["role"] == "user"][-1] == (
        "What about Oslo?"
    )
    fake_provider.script(Reply(text="Still cold."))
    after = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "And now?", "provider": "openai"}
    )
    assert after.status_code == 200, "the replay left the provider client usable by chat"


async def test_a_replay_answers_an_html_page_when_the_client_prefers_html(
    client: httpx.AsyncClient,
) -> None:
    sid, _ = await _recorded(client, "Hello")
    url = f"/v1/sessions/{sid}/replay"

    page = await client.post(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    json_first = await client.post(url, headers={"Accept": "application/json, text/html;q=0.5"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")
    assert sid in page.text and "identical" in page.text
    assert json_first.headers["content-type"] == "application/json"
    assert json_first.json()["identical"] is True


async def test_a_batch_replays_the_sessions_its_metadata_filter_selects(
    client: httpx.AsyncClient,
) -> None:
    chosen = [
        (await _recorded(client, "Hi", metadata={"suite": "nightly", "n": n}))[0] for n in (1, 2)
    ]
    await _recorded(client, "Hi", metadata={"suite": "other"})
    body = {"metadata_filter": {"suite": "nightly"}, "mode": "deterministic"}

    response = await client.post("/v1/replays", json=body)
    page = await client.post("/v1/replays", json=body, headers={"Accept": "text/html"})

    assert response.status_code == 200, response.text
    batch = response.json()
    assert sorted(r["source_session_id"] for r in batch["reports"]) == sorted(chosen)
    assert (batch["sessions"], batch["turns"], batch["identical_sessions"]) == (2, 2, 2)
    assert batch["metadata_filter"] == {"suite": "nightly"}
    assert page.headers["content-type"].startswith("text/html")
    assert all(sid in page.text for sid in chosen)
    assert (await client.post("/v1/replays", json=body)).json()["sessions"] == 2, (
        "replay branches are not replayed again"
    )


async def test_a_replay_is_refused_before_branching_when_its_options_cannot_hold(
    client: httpx.AsyncClient,
) -> None:
    sid, _ = await _recorded(client, "Hello")
    url = f"/v1/sessions/{sid}/replay"
    before = await _session_ids(client)

    mixed = await client.post(url, json={"mode": "deterministic", "provider": "openai"})
    unknown = await client.post(url, json={"mode": "counterfactual", "provider": "nope"})
    mode = await client.post(url, json={"mode": "sideways"})
    batch = await client.post("/v1/replays", json={"mode": "deterministic"})

    assert mixed.status_code == 422 and mixed.json()["field"] == "body.provider"
    assert unknown.status_code == 422 and unknown.json()["title"] == "Provider not configured"
    assert mode.status_code == 422 and mode.json()["field"] == "body.mode"
    assert batch.status_code == 422 and batch.json()["field"] == "body.metadata_filter"
    assert await _session_ids(client) == before


async def test_another_tenants_session_cannot_be_replayed_or_summarised(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    theirs = ledger.create_session(CommandContext(tenant_id="other", actor="x")).id

    replayed = await client.post(f"/v1/sessions/{theirs}/replay")
    summarised = await client.post(f"/v1/sessions/{theirs}/summarize", json={"text": "x"})
    malformed = await client.post("/v1/sessions/not-a-uuid/replay")

    assert [r.status_code for r in (replayed, summarised, malformed)] == [404, 404, 404]


# Summaries


async def test_a_summary_given_as_text_stands_in_for_the_history_in_the_next_prompt(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid, _ = await _recorded(client, "I plan a trip to Oslo in May", "Budget is 2000 EUR")

    response = await client.post(
        f"/v1/sessions/{sid}/summarize", json={"text": "Trip to Oslo in May, 2000 EUR."}
    )

    assert response.status_code == 200, response.text
    session = response.json()
    (summary,) = session["summaries"]
    assert summary["text"] == "Trip to Oslo in May, 2000 EUR."
    assert (summary["from_version"], summary["to_version"]) == (2, 7)
    assert response.headers["etag"] == f'"{session["version"]}"'
    assert len((await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]) == 4
    fake_provider.script(Reply(text="Pack a coat."))
    chat = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "What should I pack?", "provider": "openai"}
    )
    assert chat.status_code == 200, chat.text
    sent = fake_provider.requests[-1].body
    prompt = " ".join(str(m["content"]) for m in sent["messages"])
    assert "Trip to Oslo in May, 2000 EUR." in prompt
    assert "Budget is 2000 EUR" not in prompt and "What should I pack?" in prompt


async def test_a_summary_written_by_the_sessions_model_is_recorded_with_its_call(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    agent = await client.post("/v1/agents", json={"name": "planner", "provider": "openai"})
    assert agent.status_code == 201, agent.text
    sid = await _session(client, agent_id=agent.json()["id"])
    fake_provider.script(
        Reply(text="Oslo is lovely in May."),
        Reply(text="The user goes to Oslo in May."),
        Reply(text="Bring a light jacket."),
    )
    asked = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Oslo in May?"})
    assert asked.status_code == 200, asked.text

    response = await client.post(f"/v1/sessions/{sid}/summarize", json={"up_to_version": 3})

    assert response.status_code == 200, response.text
    (summary,) = response.json()["summaries"]
    assert summary["text"] == "The user goes to Oslo in May."
    events = (await client.get(f"/v1/sessions/{sid}/events", params={"limit": 100})).json()
    types = [e["type"] for e in events["data"]]
    assert types[-2:] == ["Session.CompletionRecorded", "Session.Summarized"]
    await client.post(f"/v1/sessions/{sid}/chat", json={"message": "What to wear?"})
    system = fake_provider.requests[-1].body["messages"][0]
    assert system["role"] == "system" and "The user goes to Oslo in May." in system["content"]


async def test_a_summary_needs_messages_to_stand_in_for(client: httpx.AsyncClient) -> None:
    sid = await _session(client)

    empty = await client.post(f"/v1/sessions/{sid}/summarize", json={"text": "nothing"})
    by_model = await client.post(f"/v1/sessions/{sid}/summarize")
    blank = await client.post(f"/v1/sessions/{sid}/summarize", json={"text": ""})

    assert empty.status_code == 422 and empty.json()["field"] == "messages"
    assert by_model.status_code == 422 and by_model.json()["field"] == "messages"
    assert blank.status_code == 422 and blank.json()["field"] == "body.text"
