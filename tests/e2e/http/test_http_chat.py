"""Chat turns over HTTP answered as JSON: what is recorded and what the model is sent.
The offline provider answers unless a test names another (served by the fake provider)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
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


async def _events(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/sessions/{sid}/events", params={"limit": 1000})
    events: list[dict[str, Any]] = response.json()["data"]
    return events


async def _history(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (await client.get(f"/v1/sessions/{sid}/messages")).json()[
        "data"
    ]
    return messages


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


async def test_a_turn_records_the_user_message_the_completion_and_the_reply(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Hello there"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    result = response.json()
    assert (result["provider"], result["model"]) == ("offline", "offline-echo")
    assert "Hello there" in result["output"]
    assert result["finish_reason"] == "stop"
    assert result["replayed"] is False
    assert result["version"] == 4
    assert response.headers["etag"] == '"4"'
    events = await _events(client, sid)
    assert _types(events) == [
        "Session.Created",
        "Session.MessageAppended",
        "Session.CompletionRecorded",
        "Session.MessageAppended",
    ]
    user, completion, reply = (e["data"] for e in events[1:])
    assert user["message"]["id"] == result["user_message_id"]
    assert [b["text"] for b in user["message"]["content"]] == ["Hello there"]
    assert completion["completion_id"] == result["completion_id"]
    assert completion["manifest"]["message_ids"] == [result["user_message_id"]]
    assert completion["manifest"]["input_message_ids"] == [result["user_message_id"]]
    usage = completion["reply"]["usage"]
    assert usage["input_tokens"] == result["token_usage"]["input_tokens"] > 0
    assert usage["output_tokens"] == result["token_usage"]["output_tokens"] > 0
    assert reply["message"]["id"] == result["message_id"]
    assert reply["message"]["role"] == "assistant"
    history = await _history(client, sid)
    assert [(m["role"], m["id"]) for m in history] == [
        ("user", result["user_message_id"]),
        ("assistant", result["message_id"]),
    ]
    assert history[1]["content"][0]["text"] == result["output"]


async def test_a_second_turn_sends_the_history_and_lists_it_in_the_manifest(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)
    first = (await client.post(f"/v1/sessions/{sid}/chat", json={"message": "one"})).json()

    second = (
        await client.post(
            f"/v1/sessions/{sid}/chat", json={"message": {"role": "user", "content": "two"}}
        )
    ).json()

    completion = (await _events(client, sid))[-2]["data"]
    assert completion["manifest"]["history"] == {
        "version": first["version"],
        "length": 2,
        "sent": [[0, 2]],
        "excluded": [],
        "summarized": [],
    }
    assert completion["manifest"]["message_ids"] == [second["user_message_id"]]
    response = await client.get(f"/v1/sessions/{sid}/completions/{second['completion_id']}/context")
    assert response.status_code == 200
    context = response.json()
    assert context["message_ids"] == [
        first["user_message_id"],
        first["message_id"],
        second["user_message_id"],
    ]
    assert [m["content"][0]["text"] for m in context["messages"]] == [
        "one",
        first["output"],
        "two",
    ]


async def test_the_context_of_an_unknown_call_is_a_404_problem(client: httpx.AsyncClient) -> None:
    sid = await _session(client)

    response = await client.get(f"/v1/sessions/{sid}/completions/no-such-call/context")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"session {sid} recorded no completion 'no-such-call'"


async def test_a_turn_not_remembered_stays_out_of_the_history_but_its_completion_is_recorded(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)

    result = (
        await client.post(f"/v1/sessions/{sid}/chat", json={"message": "secret", "remember": False})
    ).json()

    assert result["message_id"] is None
    assert await _history(client, sid) == []
    events = await _events(client, sid)
    assert _types(events) == ["Session.Created", "Session.CompletionRecorded"]
    completion = events[1]["data"]
    assert completion["remember"] is False
    assert [b["text"] for b in completion["input_messages"][0]["content"]] == ["secret"]
    assert completion["reply"]["candidates"][0]["content"][0]["text"] == result["output"]
    assert (await client.get(f"/v1/sessions/{sid}")).json()["message_count"] == 0


async def test_a_turn_without_recall_sends_only_the_new_input(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    await client.post(f"/v1/sessions/{sid}/chat", json={"message": "remember me"})
    fake_provider.script(Reply(text="Fresh start."))

    result = (
        await client.post(
            f"/v1/sessions/{sid}/chat",
            json={"message": "new topic", "recall": False, "provider": "openai"},
        )
    ).json()

    assert fake_provider.last_request.body["messages"] == [{"role": "user", "content": "new topic"}]
    completion = (await _events(client, sid))[-2]["data"]
    assert completion["manifest"]["message_ids"] == [result["user_message_id"]]
    assert [m["role"] for m in await _history(client, sid)] == ["user", "assistant"] * 2


async def test_a_situation_template_is_rendered_from_context_metadata_and_user(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(
        client,
        user_id="ana",
        situation="Helping {{ user }} plan {{ context.city }} ({{ metadata.tier }}, {{ style }}).",
        context={"city": "Lisbon"},
        metadata={"tier": "gold"},
        render_templates=True,
    )
    fake_provider.script(Reply(text="Gladly."))

    response = await client.post(
        f"/v1/sessions/{sid}/chat",
        json={"message": "Plan it", "provider": "openai", "variables": {"style": "slow travel"}},
    )

    assert response.status_code == 200, response.text
    assert fake_provider.last_request.body["messages"][0] == {
        "role": "system",
        "content": "Helping ana plan Lisbon (gold, slow travel).",
    }
    completion = (await _events(client, sid))[-2]["data"]
    assert completion["manifest"]["situation"] == "Helping ana plan Lisbon (gold, slow travel)."


async def test_a_template_that_fails_to_render_is_refused_and_nothing_is_recorded(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(
        client, situation="Weather: {{ context.missing.deeper }}", render_templates=True
    )

    for stream in (False, True):
        response = await client.post(
            f"/v1/sessions/{sid}/chat",
            json={"message": "hi", "provider": "openai", "stream": stream},
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == "situation"
        assert response.json()["title"] == "Template error"
    assert _types(await _events(client, sid)) == ["Session.Created"]
    assert fake_provider.calls == 0


async def test_suggestions_are_recorded_and_served_after_the_turn(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)
    before = await client.get(f"/v1/sessions/{sid}/suggestions")

    result = (
        await client.post(
            f"/v1/sessions/{sid}/chat", json={"message": "Lisbon trip", "suggestions": True}
        )
    ).json()
    served = await client.get(f"/v1/sessions/{sid}/suggestions")

    assert before.json() == {"data": []}
    assert len(result["suggestions"]) == 3
    assert served.status_code == 200
    assert served.json() == {"data": result["suggestions"]}
    events = await _events(client, sid)
    recorded = [e["data"] for e in events if e["type"] == "Session.SuggestionsRecorded"]
    assert [r["suggestions"] for r in recorded] == [result["suggestions"]]
    assert recorded[0]["completion_id"] == result["completion_id"]
    assert [m["role"] for m in await _history(client, sid)] == ["user", "assistant"]


async def test_flat_settings_win_over_nested_ones_and_stop_may_be_one_string(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="ok"))

    await client.post(
        f"/v1/sessions/{sid}/chat",
        json={
            "message": "hi",
            "provider": "openai",
            "model": "gpt-flat",
            "temperature": 0.7,
            "stop": "END",
            "settings": {"temperature": 0.1, "seed": 7, "model": "gpt-nested"},
        },
    )

    sent = fake_provider.last_request.body
    assert (sent["model"], sent["temperature"], sent["seed"]) == ("gpt-flat", 0.7, 7)
    assert sent["stop"] == ["END"]
    completion = (await _events(client, sid))[-2]["data"]
    assert completion["settings"]["temperature"] == 0.7
    assert completion["settings"]["stop"] == ["END"]
