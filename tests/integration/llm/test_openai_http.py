"""`OpenAIChatModel` against the fake provider: what it sends, reads and refuses to retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.errors import ProviderRateLimitError, ProviderStreamError
from domain.llm import ChatRequest, PartDelta, ReplyDelta, Usage, fold_deltas
from tests.support.fake_provider import Fail, FakeProvider, Reply, TokenUsage, ToolCall

pytestmark = pytest.mark.anyio

MakeModel = Callable[..., Any]
MakeRequest = Callable[..., ChatRequest]


async def test_a_complete_reply_is_read_from_a_chat_completion(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Snow in Oslo.", usage=TokenUsage(30, 4, cached_tokens=16)))
    model = make_model("openai")

    reply = await model.complete(make_request(max_tokens=64))

    assert reply.text == "Snow in Oslo."
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(
        input_tokens=30, output_tokens=4, cache_read_input_tokens=16, reasoning_output_tokens=0
    )
    assert (reply.response_id, reply.response_model, reply.provider) == (
        "resp_fake_1",
        "fake-model-2026",
        "openai",
    )
    sent = fake_provider.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the weather in Oslo?"},
        ],
        "max_completion_tokens": 64,
    }


async def test_streamed_deltas_fold_to_the_reply_complete_gives(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    reply = Reply(
        text="Checking the weather.",
        chunks=4,
        thinking="Oslo, so snow.",
        tool_calls=(ToolCall("get_weather", {"city": "Oslo"}), ToolCall("get_time")),
        usage=TokenUsage(40, 20, reasoning_tokens=8),
    )
    fake_provider.script(reply, reply)
    model = make_model("openai", provider="vllm")

    completed = await model.complete(make_request())
    deltas: list[ReplyDelta] = [delta async for delta in model.stream(make_request())]

    assert fold_deltas(deltas, provider="vllm") == completed
    assert completed.finish_reason == "tool_call"
    assert [c.arguments for c in completed.tool_calls] == [{"city": "Oslo"}, {}]
    assert sum(isinstance(d, PartDelta) and bool(d.text) for d in deltas) == 8
    assert fake_provider.last_request.body["stream_options"] == {"include_usage": True}


async def test_a_local_server_gets_max_tokens_and_no_key_when_it_needs_none(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="hi"))
    model = make_model("openai", provider="ollama", api_key=None)

    await model.complete(make_request(max_tokens=64))

    sent = fake_provider.last_request
    assert "authorization" not in sent.headers
    assert sent.body["max_tokens"] == 64 and "max_completion_tokens" not in sent.body
    assert (model.provider, model.operation_name) == ("ollama", "chat")
    port = int(fake_provider.url.rsplit(":", 1)[1])
    assert (model.server_address, model.server_port) == ("127.0.0.1", port)


async def test_exhausted_quota_fails_at_once_although_it_is_a_429(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest, sleeps: Any
) -> None:
    fake_provider.script(Fail(429, error_type="insufficient_quota"), Reply(text="never"))

    with pytest.raises(ProviderRateLimitError) as raised:
        await make_model("openai").complete(make_request())

    assert (raised.value.error_type, raised.value.retryable) == ("insufficient_quota", False)
    assert (fake_provider.calls, sleeps.delays) == (1, [])


async def test_an_error_chunk_after_content_breaks_the_stream(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Hello there", chunks=3, error_after=1))
    deltas: list[ReplyDelta] = []

    with pytest.raises(ProviderStreamError) as raised:
        async for delta in make_model("openai").stream(make_request()):
            deltas.append(delta)

    assert raised.value.error_type == "server_error"
    assert [d.text for d in deltas if isinstance(d, PartDelta)] == ["Hell"]
    assert fake_provider.calls == 1


async def test_the_adapter_reports_where_it_sends_for_telemetry(make_model: MakeModel) -> None:
    model = make_model("openai", base_url="https://api.openai.com/v1")

    assert (model.provider, model.operation_name) == ("openai", "chat")
    assert (model.server_address, model.server_port) == ("api.openai.com", 443)
