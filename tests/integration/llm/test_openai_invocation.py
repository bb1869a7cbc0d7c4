"""OpenAI Chat Completions JSON: request bodies built, recorded replies and streams read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.llm.errors import UnsupportedContentError
from adapters.llm.openai import OpenAIChatModel, build_invocation, parse_response
from domain.content import (
    Base64Source,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UrlSource,
)
from domain.llm import ChatReply, ChatRequest, ChatSettings, Usage, fold_deltas
from domain.message import Message

Recorded = Callable[[str], Any]


def request_with(*messages: Message, **settings: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=list(messages), settings=ChatSettings(**settings))


async def streamed(recording: bytes, *, provider: str = "openai") -> ChatReply:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=recording)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        model = OpenAIChatModel(
            client, api_key="k", base_url="http://llm.test/v1", provider=provider
        )
        request = request_with(Message.user("hi"))
        return fold_deltas([d async for d in model.stream(request)], provider=provider)


def test_a_conversation_becomes_the_recorded_request_body(
    conversation: ChatRequest, recorded: Recorded
) -> None:
    assert build_invocation(conversation) == recorded("openai/request_conversation.json")


def test_streaming_asks_for_the_usage_chunk() -> None:
    body = build_invocation(request_with(Message.user("hi")), stream=True)

    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_compatible_servers_get_max_tokens_and_top_k_which_openai_would_refuse() -> None:
    request = request_with(Message.user("hi"), max_tokens=50, top_k=20)

    assert build_invocation(request, provider="vllm") | {"messages": []} == {
        "model": "m",
        "messages": [],
        "max_tokens": 50,
        "top_k": 20,
    }
    openai = build_invocation(request)
    assert openai["max_completion_tokens"] == 50
    assert "top_k" not in openai and "max_tokens" not in openai


def test_settings_left_unset_are_not_sent() -> None:
    assert build_invocation(request_with(Message.user("hi"))) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_a_named_tool_choice_and_json_output_take_their_object_forms() -> None:
    body = build_invocation(
        request_with(Message.user("hi"), tool_choice="get_weather", response_format="json", seed=7)
    )

    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["response_format"] == {"type": "json_object"}
    assert body["seed"] == 7


def test_each_tool_result_is_a_tool_message_and_failures_say_so() -> None:
    results = Message(
        role="tool",
        content=[
            ToolResultBlock(tool_call_id="call_1", content=[TextBlock(text="ok")]),
            ToolResultBlock(tool_call_id="call_2", content=[TextBlock(text="boom")], is_error=True),
        ],
    )

    assert build_invocation(request_with(results))["messages"] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Error: boom"},
    ]


def test_reasoning_is_not_replayed_and_invalid_arguments_go_back_as_they_came() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ThinkingBlock(text="hmm", provider="openai"),
            ToolCallBlock(id="call_1", name="f", arguments=None, arguments_raw='{"a":'),
        ],
    )

    assert build_invocation(request_with(assistant))["messages"] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a":'},
                }
            ],
        }
    ]


@pytest.mark.parametrize(
    ("provider", "block"),
    [
        ("openai", DocumentBlock(source=UrlSource(url="https://example.com/a.pdf"))),
        ("ollama", ImageBlock(source=UrlSource(url="https://example.com/a.png"))),
        (
            "openai",
            ToolResultBlock(
                tool_call_id="c",
                content=[ImageBlock(source=Base64Source(data="AA==", media_type="image/png"))],
            ),
        ),
    ],
    ids=["document-url", "ollama-image-url", "image-in-tool-result"],
)
def test_content_the_api_cannot_take_is_refused_not_dropped(provider: str, block: Any) -> None:
    with pytest.raises(UnsupportedContentError, match=provider):
        build_invocation(request_with(Message(role="user", content=[block])), provider=provider)


def test_a_tool_call_reply_is_read_with_its_usage_arithmetic(recorded: Recorded) -> None:
    reply = parse_response(recorded("openai/response_tool_calls.json"))

    assert reply.finish_reason == "tool_call"
    assert reply.candidates[0].provider_finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments, c.arguments_raw) for c in reply.tool_calls] == [
        ("call_a1", "lookup_sku", {"sku": "X-12"}, '{"sku":"X-12"}'),
        ("call_a2", "lookup_sku", None, '{"sku":'),  # invalid JSON kept raw
    ]
    assert reply.usage == Usage(
        input_tokens=310, output_tokens=42, cache_read_input_tokens=256, reasoning_output_tokens=24
    )
    assert (reply.response_id, reply.response_model) == ("chatcmpl-9x", "gpt-5-mini-2026-08-07")
    assert reply.provider_details == {"system_fingerprint": "fp_1", "service_tier": "default"}


def test_every_choice_is_a_candidate_in_index_order(recorded: Recorded) -> None:
    reply = parse_response(recorded("openai/response_two_choices.json"))

    assert [(c.index, c.content, c.finish_reason) for c in reply.candidates] == [
        (0, [TextBlock(text="Snow in Oslo.")], "stop"),
        (1, [TextBlock(text="Oslo is cold and")], "length"),
    ]
    assert reply.usage == Usage(input_tokens=20, output_tokens=9)


def test_a_refusal_is_filtered_content(recorded: Recorded) -> None:
    reply = parse_response(recorded("openai/response_refusal.json"))

    assert reply.content == [
        TextBlock(text="I can't help with that.", provider_details={"refusal": True})
    ]
    assert reply.finish_reason == "content_filter"
    assert reply.candidates[0].provider_finish_reason == "stop"


def test_reasoning_from_a_compatible_server_is_a_thinking_block() -> None:
    body = {
        "id": "x",
        "model": "qwen3",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "4", "reasoning_content": "2+2"},
                "finish_reason": "stop",
            }
        ],
    }

    assert parse_response(body, provider="vllm").content == [
        ThinkingBlock(text="2+2", provider="vllm"),
        TextBlock(text="4"),
    ]


@pytest.mark.anyio
async def test_a_recorded_text_stream_folds_to_its_reply(recorded: Recorded) -> None:
    reply = await streamed(recorded("openai/stream_text.sse"))

    assert reply.content == [TextBlock(text="Hello")]
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(input_tokens=12, output_tokens=2)
    assert reply.response_id == "chatcmpl-9x"


@pytest.mark.anyio
async def test_tool_call_fragments_are_joined_per_index(recorded: Recorded) -> None:
    reply = await streamed(recorded("openai/stream_tool_calls.sse"))

    assert reply.content == [
        ToolCallBlock(
            id="call_a1",
            name="lookup_sku",
            arguments={"sku": "X-12"},
            arguments_raw='{"sku":"X-12"}',
        ),
        ToolCallBlock(
            id="call_a2", name="lookup_sku", arguments={"sku": "Y-7"}, arguments_raw='{"sku":"Y-7"}'
        ),
    ]
    assert reply.finish_reason == "tool_call"
    assert reply.usage == Usage(
        input_tokens=310, output_tokens=42, cache_read_input_tokens=256, reasoning_output_tokens=24
    )
    assert reply.provider_details == {"system_fingerprint": "fp_1"}
