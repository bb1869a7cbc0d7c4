"""Chat against real provider wire formats (the fake provider speaking OpenAI, Anthropic
and Gemini): tool calls answered by the client, rate limits retried, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from tests.support.fake_provider import Fail, FakeProvider, Reply, ToolCall

pytestmark = pytest.mark.anyio

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city now",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings], provider: str) -> Settings:
    """`provider` by default, served by the fake provider."""
    return make_fake_settings(default_provider=provider)


async def _session(client: httpx.AsyncClient) -> str:
    return str((await client.post("/v1/sessions", json={"title": "Weather"})).json()["id"])


async def _events(client: httpx.AsyncClient, sid: str, kind: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/sessions/{sid}/events", params={"limit": 1000})
    return [e["data"] for e in response.json()["data"] if e["type"] == f"Session.{kind}"]


async def test_a_tool_call_is_returned_and_a_tool_result_continues_the_turn(
    client: httpx.AsyncClient, fake_provider: FakeProvider, provider: str
) -> None:
    sid = await _session(client)
    fake_provider.script(
        Reply(tool_calls=(ToolCall("get_weather", {"city": "Oslo"}, id="call_oslo_1"),)),
        Reply(text="It is 3°C in Oslo."),
    )

    asked = await client.post(
        f"/v1/sessions/{sid}/chat",
        json={"message": "Weather in Oslo?", "tools": [WEATHER_TOOL], "tool_choice": "auto"},
    )

    assert asked.status_code == 200, asked.text
    result = asked.json()
    assert result["finish_reason"] == "tool_call"
    (call,) = result["tool_calls"]
    assert (call["id"], call["name"], call["arguments"]) == (
        "call_oslo_1",
        "get_weather",
        {"city": "Oslo"},
    )
    history = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    assert history[-1]["role"] == "assistant"
    assert history[-1]["content"][0]["type"] == "tool_call"
    assert history[-1]["content"][0]["id"] == "call_oslo_1"

    answered = await client.post(
        f"/v1/sessions/{sid}/chat",
        json={
            "messages": [
                {
                    "role": "tool",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_call_id": "call_oslo_1",
                            "content": [{"type": "text", "text": "3°C"}],
                        }
                    ],
                }
            ],
            "tools": [WEATHER_TOOL],
        },
    )

    assert answered.status_code == 200, answered.text
    assert answered.json()["output"] == "It is 3°C in Oslo."
    assert answered.json()["finish_reason"] == "stop"
    assert _tool_result_sent(provider, fake_provider.last_request.body) == "3°C"
    roles = [m["role"] for m in (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]]
    assert roles == ["user", "assistant", "tool", "assistant"]


def _tool_result_sent(provider: str, body: dict[str, Any]) -> Any:
    """The tool result for call `call_oslo_1` as the provider's wire format carries it."""
    if provider == "openai":
        (sent,) = [m for m in body["messages"] if m["role"] == "tool"]
        assert sent["tool_call_id"] == "call_oslo_1"
        return sent["content"]
    if provider == "anthropic":
        last = body["messages"][-1]
        assert last["role"] == "user"
        (block,) = [b for b in last["content"] if b["type"] == "tool_result"]
        assert block["tool_use_id"] == "call_oslo_1"
        return block["content"]
    last = body["contents"][-1]
    assert last["role"] == "user"
    (part,) = [p["functionResponse"] for p in last["parts"] if "functionResponse" in p]
    assert (part["id"], part["name"]) == ("call_oslo_1", "get_weather")
    return part["response"]["result"]


async def test_a_rate_limit_with_retry_after_is_retried_transparently(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Fail(429, retry_after=0), Reply(text="Second time lucky."))

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Hi"})

    assert response.status_code == 200, response.text
    assert response.json()["output"] == "Second time lucky."
    assert fake_provider.calls == 2
    (completion,) = await _events(client, sid, "CompletionRecorded")
    assert completion["reply"]["attempts"] == 2


async def test_a_rate_limit_that_persists_answers_429_with_retry_after(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(*[Fail(429, retry_after=0)] * 2, Fail(429, retry_after=7))

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Hi"})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    (failed,) = await _events(client, sid, "CompletionFailed")
    assert failed["attempts"] == 3


async def test_a_provider_refusing_the_request_answers_502_and_records_the_failure(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Fail(400, message="bad request, says the provider"))

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Hi"})

    assert response.status_code == 502
    assert "HTTP 400" in response.json()["detail"]
    assert fake_provider.calls == 1
    (failed,) = await _events(client, sid, "CompletionFailed")
    assert failed["attempts"] == 1
    assert failed["partial"] == []
    assert [b["text"] for b in failed["input_messages"][0]["content"]] == ["Hi"]
    assert (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"] == []
