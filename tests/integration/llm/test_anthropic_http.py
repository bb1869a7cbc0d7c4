"""`AnthropicChatModel` against the fake provider: headers, streams, overloads, error events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.errors import ProviderHTTPError, ProviderStreamError
from domain.llm import ChatRequest, PartDelta, ReplyDelta, ResponseEnded, Usage, fold_deltas
from tests.support.fake_provider import Fail, FakeProvider, Reply, TokenUsage, ToolCall

pytestmark = pytest.mark.anyio

MakeModel = Callable[..., Any]
MakeRequest = Callable[..., ChatRequest]


async def test_a_complete_reply_is_read_from_a_message(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Snow.", usage=TokenUsage(2000, 9, cached_tokens=1800)))

    reply = await make_model("anthropic").complete(make_request(temperature=0.5))

    assert (reply.text, reply.finish_reason) == ("Snow.", "stop")
    assert reply.candidates[0].provider_finish_reason == "end_turn"
    assert reply.usage == Usage(
        input_tokens=2000,
        output_tokens=9,
        cache_read_input_tokens=1800,
        cache_write_input_tokens=0,
        reasoning_output_tokens=0,
    )
    sent = fake_provider.last_request
    assert sent.path == "/v1/messages"
    assert (sent.headers["x-api-key"], sent.headers["anthropic-version"]) == (
        "sk-ant-test",
        "2026-10-21",
    )
    assert sent.body == {
        "model": "fake-model",
        "max_tokens": 1024,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is the weather in Oslo?"}]}
        ],
    }  # no temperature: API version 2026-10-21 refuses it


async def test_streamed_deltas_fold_to_the_reply_complete_gives(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    reply = Reply(
        text="Checking.",
        chunks=3,
        thinking="Weather first.",
        tool_calls=(ToolCall("get_weather", {"city": "Oslo"}),),
        usage=TokenUsage(50, 30, cached_tokens=20, reasoning_tokens=12),
    )
    fake_provider.script(reply, reply)
    model = make_model("anthropic")

    completed = await model.complete(make_request())
    deltas: list[ReplyDelta] = [delta async for delta in model.stream(make_request())]

    assert fold_deltas(deltas, provider="anthropic") == completed
    assert completed.content[0].type == "thinking"
    assert completed.finish_reason == "tool_call"
    assert fake_provider.last_request.body["stream"] is True


async def test_an_overloaded_529_is_retried(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest, sleeps: Any
) -> None:
    fake_provider.script(Fail(529), Reply(text="back"))

    reply = await make_model("anthropic").complete(make_request())

    assert (reply.text, reply.attempts, fake_provider.calls) == ("back", 2, 2)
    assert sleeps.delays == [0.5]


async def test_an_overloaded_error_event_before_content_is_retried(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="lost", error_after=0), Reply(text="Hello there", chunks=2))

    deltas = [delta async for delta in make_model("anthropic").stream(make_request())]

    assert fold_deltas(deltas, provider="anthropic").text == "Hello there"
    assert isinstance(deltas[-1], ResponseEnded) and deltas[-1].attempts == 2


async def test_an_error_event_after_content_breaks_the_stream(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Hello there", chunks=3, error_after=2))
    deltas: list[ReplyDelta] = []

    with pytest.raises(ProviderStreamError) as raised:
        async for delta in make_model("anthropic").stream(make_request()):
            deltas.append(delta)

    assert raised.value.error_type == "overloaded_error"
    assert "".join(d.text for d in deltas if isinstance(d, PartDelta)) == "Hello th"
    assert fake_provider.calls == 1


async def test_an_invalid_request_error_event_is_not_retried(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="x", error_after=0, error_type="invalid_request_error"))

    with pytest.raises(ProviderHTTPError) as raised:
        _ = [delta async for delta in make_model("anthropic").stream(make_request())]

    assert (raised.value.status, raised.value.error_type) == (400, "invalid_request_error")
    assert fake_provider.calls == 1


async def test_the_adapter_reports_where_it_sends_for_telemetry(make_model: MakeModel) -> None:
    model = make_model("anthropic", base_url="https://api.anthropic.com")

    assert (model.provider, model.operation_name) == ("anthropic", "chat")
    assert (model.server_address, model.server_port) == ("api.anthropic.com", 443)
