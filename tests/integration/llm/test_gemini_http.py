"""`GeminiChatModel` against the fake provider: URLs, key header, quotas, late JSON errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.content import TextBlock, ToolCallBlock, ToolResultBlock
from domain.errors import ProviderRateLimitError, ProviderStreamError
from domain.llm import ChatRequest, PartDelta, ReplyDelta, ResponseEnded, Usage, fold_deltas
from domain.message import Message
from tests.support.fake_provider import Fail, FakeProvider, Reply, TokenUsage, ToolCall

pytestmark = pytest.mark.anyio

MakeModel = Callable[..., Any]
MakeRequest = Callable[..., ChatRequest]
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


async def test_a_complete_reply_comes_from_generate_content_with_the_key_in_a_header(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Snow.", usage=TokenUsage(30, 9, reasoning_tokens=4)))

    reply = await make_model("gemini").complete(make_request(max_tokens=64))

    assert (reply.text, reply.finish_reason) == ("Snow.", "stop")
    assert reply.usage == Usage(input_tokens=30, output_tokens=9, reasoning_output_tokens=4)
    sent = fake_provider.last_request
    assert (sent.path, sent.query) == ("/v1beta/models/fake-model:generateContent", "")
    assert sent.headers["x-goog-api-key"] == "gm-test"
    assert sent.body == {
        "contents": [{"role": "user", "parts": [{"text": "What is the weather in Oslo?"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 64},
    }


async def test_streamed_deltas_fold_to_the_reply_complete_gives(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    reply = Reply(
        text="Checking the weather.",
        chunks=3,
        thinking="Oslo first.",
        tool_calls=(ToolCall("get_weather", {"city": "Oslo"}),),
        usage=TokenUsage(40, 20, cached_tokens=10, reasoning_tokens=6),
    )
    fake_provider.script(reply, reply)
    model = make_model("gemini")

    completed = await model.complete(make_request())
    deltas: list[ReplyDelta] = [delta async for delta in model.stream(make_request())]

    assert fold_deltas(deltas, provider="gcp.gemini") == completed
    assert completed.finish_reason == "tool_call"
    sent = fake_provider.last_request
    assert (sent.path, sent.query) == ("/v1beta/models/fake-model:streamGenerateContent", "alt=sse")


async def test_a_call_without_an_id_is_answered_without_one(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(
        Reply(tool_calls=(ToolCall("get_weather", {"city": "Oslo"}, id=""),)), Reply(text="Snow.")
    )
    model = make_model("gemini")
    first = await model.complete(make_request())
    (call,) = first.tool_calls
    answer = Message(
        role="tool", content=[ToolResultBlock(tool_call_id=call.id, content=[TextBlock(text="-3")])]
    )
    follow_up = make_request().model_copy(
        update={"messages": [*make_request().messages, first.message(), answer]}
    )

    await model.complete(follow_up)

    assert isinstance(call, ToolCallBlock) and call.id
    assert fake_provider.last_request.body["contents"][1:] == [
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "-3"}}}],
        },
    ]


async def test_retry_info_says_how_long_to_wait(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest, sleeps: Any
) -> None:
    wait = {"@type": RETRY_INFO, "retryDelay": "3.5s"}
    fake_provider.script(Fail(429, details=[wait]), Reply(text="ok"))

    reply = await make_model("gemini").complete(make_request())

    assert (reply.text, reply.attempts, sleeps.delays) == ("ok", 2, [3.5])


async def test_a_daily_quota_is_not_retried(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest, sleeps: Any
) -> None:
    daily = {
        "@type": QUOTA_FAILURE,
        "violations": [{"quotaId": "GenerateRequestsPerDayPerProject"}],
    }
    fake_provider.script(Fail(429, details=[daily]), Reply(text="never"))

    with pytest.raises(ProviderRateLimitError) as raised:
        await make_model("gemini").complete(make_request())

    assert (raised.value.error_type, raised.value.retryable) == ("RESOURCE_EXHAUSTED", False)
    assert (fake_provider.calls, sleeps.delays) == (1, [])


async def test_a_plain_json_error_before_content_is_retried(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="lost", error_after=0), Reply(text="Hello there", chunks=2))

    deltas = [delta async for delta in make_model("gemini").stream(make_request())]

    assert fold_deltas(deltas, provider="gcp.gemini").text == "Hello there"
    assert isinstance(deltas[-1], ResponseEnded) and deltas[-1].attempts == 2


async def test_a_plain_json_error_after_content_breaks_the_stream(
    fake_provider: FakeProvider, make_model: MakeModel, make_request: MakeRequest
) -> None:
    fake_provider.script(Reply(text="Hello there", chunks=3, error_after=1))
    deltas: list[ReplyDelta] = []

    with pytest.raises(ProviderStreamError) as raised:
        async for delta in make_model("gemini").stream(make_request()):
            deltas.append(delta)

    assert raised.value.error_type == "UNAVAILABLE"
    assert [d.text for d in deltas if isinstance(d, PartDelta)] == ["Hell"]
    assert fake_provider.calls == 1


async def test_the_adapter_reports_where_it_sends_for_telemetry(make_model: MakeModel) -> None:
    model = make_model("gemini", base_url="https://generativelanguage.googleapis.com")

    assert (model.provider, model.operation_name) == ("gcp.gemini", "generate_content")
    assert (model.server_address, model.server_port) == ("generativelanguage.googleapis.com", 443)
