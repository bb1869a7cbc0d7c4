"""Chat turns over HTTP that are refused before anything is recorded, and turns repeated
with an `Idempotency-Key`. The offline provider answers unless a test names another
(served by the fake provider)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from tests.support.fake_provider import FakeProvider, Reply
from tests.support.sse import parse_stream

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


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


async def test_a_repeated_idempotency_key_returns_the_stored_result_without_calling_the_model(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="Once only."))
    request = {"message": "book it", "provider": "openai", "temperature": 0.1}
    headers = {"Idempotency-Key": "order-42"}

    first = await client.post(f"/v1/sessions/{sid}/chat", json=request, headers=headers)
    again = await client.post(f"/v1/sessions/{sid}/chat", json=request, headers=headers)
    streamed = await client.post(
        f"/v1/sessions/{sid}/chat", json=request | {"stream": True}, headers=headers
    )
    different = await client.post(
        f"/v1/sessions/{sid}/chat", json=request | {"message": "other"}, headers=headers
    )

    assert first.status_code == again.status_code == 200
    assert first.json()["replayed"] is False
    replayed = again.json()
    assert replayed["replayed"] is True
    for name in ("completion_id", "output", "message_id", "user_message_id", "version"):
        assert replayed[name] == first.json()[name], name
    frames = parse_stream(streamed.text)
    assert [f.event for f in frames] == ["execution", "content", "done"]
    assert frames[1].data["content"] == "Once only."
    assert frames[2].data["replayed"] is True
    assert different.status_code == 422
    assert "Idempotency-Key" in different.json()["field"]
    assert fake_provider.calls == 1
    history = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    assert [m["role"] for m in history] == ["user", "assistant"]


@pytest.mark.parametrize("key", ["", "k" * 256, "caf\u00e9"])
async def test_an_idempotency_key_that_is_not_short_printable_ascii_is_refused(
    client: httpx.AsyncClient, key: str
) -> None:
    sid = await _session(client)

    response = await client.post(
        f"/v1/sessions/{sid}/chat",
        json={"message": "hi"},
        headers={"Idempotency-Key": key.encode("utf-8")},  # type: ignore[dict-item]
    )

    assert response.status_code == 422
    assert response.json()["field"] == "header.Idempotency-Key"
    assert _types(await _events(client, sid)) == ["Session.Created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hi", "temperature": 5}, "body.temperature"),
        ({"message": "hi", "settings": {"top_p": 2}}, "body.settings.top_p"),
        ({"message": "hi", "settings": {"colour": "blue"}}, "body.settings.colour"),
        ({"message": "hi", "strem": True}, "body.strem"),
        ({"message": {"role": "robot", "content": "hi"}}, "body.message.role"),
        ({"message": ""}, "body.message"),
        ({"messages": [{"role": "user", "content": []}]}, "messages[0].content"),
        ({}, "message"),
    ],
)
async def test_invalid_turns_are_refused_naming_the_field_and_nothing_is_recorded(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    sid = await _session(client)

    response = await client.post(f"/v1/sessions/{sid}/chat", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert _types(await _events(client, sid)) == ["Session.Created"]


async def test_unknown_and_deleted_sessions_are_refused_as_problems_even_when_streaming(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)
    await client.delete(f"/v1/sessions/{sid}")
    sse = {"Accept": "text/event-stream"}

    unknown = await client.post(
        f"/v1/sessions/{uuid.uuid4()}/chat", json={"message": "hi"}, headers=sse
    )
    deleted = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "hi"}, headers=sse)
    suggestions = await client.get(f"/v1/sessions/{uuid.uuid4()}/suggestions")

    assert unknown.status_code == 404
    assert deleted.status_code == 410
    assert suggestions.status_code == 404


async def test_a_provider_that_is_not_configured_is_refused_before_anything_is_recorded(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)

    response = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "hi", "provider": "nonesuch", "stream": True}
    )

    assert response.status_code == 422
    assert response.json()["title"] == "Provider not configured"
    assert _types(await _events(client, sid)) == ["Session.Created"]


async def test_content_a_provider_cannot_take_is_refused_as_invalid_input(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    mixed = {
        "role": "tool",
        "content": [
            {"type": "tool_result", "tool_call_id": "c1", "content": []},
            {"type": "text", "text": "and some prose"},
        ],
    }

    response = await client.post(
        f"/v1/sessions/{sid}/chat", json={"messages": [mixed], "provider": "openai"}
    )

    assert response.status_code == 422
    assert "tool message may hold only tool results" in response.json()["detail"]
    assert fake_provider.calls == 0
    assert _types(await _events(client, sid)) == ["Session.Created"]
