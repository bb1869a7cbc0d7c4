"""Gemini generateContent JSON: request bodies built, recorded replies and streams read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.llm.errors import UnsupportedContentError
from adapters.llm.gemini import GeminiChatModel, build_invocation, parse_response
from domain.content import (
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


async def streamed(recording: bytes) -> ChatReply:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=recording)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        model = GeminiChatModel(client, api_key="k", base_url="http://llm.test")
        request = request_with(Message.user("hi"))
        return fold_deltas([d async for d in model.stream(request)], provider="gcp.gemini")


def test_a_conversation_becomes_the_recorded_request_body(
    conversation: ChatRequest, recorded: Recorded
) -> None:
    assert build_invocation(conversation) == recorded("gemini/request_conversation.json")


def test_settings_go_to_generation_config_in_camel_case() -> None:
    request = request_with(
        Message.user("hi"), top_p=0.9, top_k=40, seed=7, response_format="json", tool_choice="f"
    )

    body = build_invocation(request)

    assert body["generationConfig"] == {
        "topP": 0.9,
        "topK": 40,
        "seed": 7,
        "responseMimeType": "application/json",
    }
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}
    }


def test_geminis_own_reasoning_and_signatures_are_replayed_on_the_parts_that_carried_them() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ThinkingBlock(text="plan", signature="CiQBthought", provider="gcp.gemini"),
            ThinkingBlock(text="theirs", signature="EqQB", provider="anthropic"),
            ToolCallBlock(
                id="call_ours",
                name="get_weather",
                arguments={"city": "Oslo"},
                provider_details={"thought_signature": "CiQBcall", "synthetic_id": True},
            ),
            TextBlock(text="", provider_details={"thought_signature": "CiQBtext"}),
        ],
    )
    result = Message(
        role="tool",
        content=[
            ToolResultBlock(tool_call_id="call_ours", content=[TextBlock(text="x")], is_error=True)
        ],
    )

    contents = build_invocation(request_with(Message.user("hi"), assistant, result))["contents"]

    assert contents[1:] == [
        {
            "role": "model",
            "parts": [
                {"text": "plan", "thought": True, "thoughtSignature": "CiQBthought"},
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                    "thoughtSignature": "CiQBcall",
                },
                {"text": "", "thoughtSignature": "CiQBtext"},
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"error": "x"}}}],
        },
    ]


def test_a_tool_result_that_names_no_known_call_is_refused() -> None:
    orphan = ToolResultBlock(tool_call_id="nobody", content=[TextBlock(text="x")])

    with pytest.raises(UnsupportedContentError, match="nobody"):
        build_invocation(request_with(Message(role="tool", content=[orphan])))


def test_an_image_url_outside_the_files_api_is_refused_not_fetched() -> None:
    image = ImageBlock(source=UrlSource(url="https://example.com/cat.png"))
    uploaded = ImageBlock(
        source=UrlSource(url="https://generativelanguage.googleapis.com/v1beta/files/abc")
    )

    with pytest.raises(UnsupportedContentError, match="Files API"):
        build_invocation(request_with(Message(role="user", content=[image])))
    assert build_invocation(request_with(Message(role="user", content=[uploaded])))["contents"] == [
        {
            "role": "user",
            "parts": [
                {
                    "fileData": {
                        "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"
                    }
                }
            ],
        }
    ]


def test_a_function_call_finishing_with_stop_is_a_tool_call_with_thoughts_counted_as_output(
    recorded: Recorded,
) -> None:
    reply = parse_response(recorded("gemini/response_function_call.json"))

    thinking, weather, clock = reply.content
    assert thinking == ThinkingBlock(text="Thinking about the image…", provider="gcp.gemini")
    assert weather == ToolCallBlock(
        id="fc_2",
        name="get_weather",
        arguments={"city": "Oslo", "day": "tomorrow"},
        arguments_raw='{"city": "Oslo", "day": "tomorrow"}',
        provider_details={"thought_signature": "CiQBsig"},
    )
    assert isinstance(clock, ToolCallBlock)
    assert (clock.name, clock.arguments, clock.provider_details) == (
        "get_time",
        {},
        {"synthetic_id": True},
    )
    assert clock.id.startswith("call_")
    assert (reply.finish_reason, reply.candidates[0].provider_finish_reason) == (
        "tool_call",
        "STOP",
    )
    assert reply.usage == Usage(
        input_tokens=1290,
        output_tokens=18 + 64,
        cache_read_input_tokens=1024,
        reasoning_output_tokens=64,
    )
    assert (reply.response_id, reply.response_model) == ("e4c1", "gemini-3.5-flash")


def test_every_candidate_is_read_even_one_without_content(recorded: Recorded) -> None:
    reply = parse_response(recorded("gemini/response_two_candidates.json"))

    assert [
        (c.index, c.content, c.finish_reason, c.provider_finish_reason) for c in reply.candidates
    ] == [
        (0, [TextBlock(text="Snow in Oslo.")], "stop", "STOP"),
        (1, [TextBlock(text="It is snowing in")], "length", "MAX_TOKENS"),
        (2, [], "content_filter", "RECITATION"),
        (3, [TextBlock(text="?")], None, "ESCALATION"),
    ]
    assert reply.usage == Usage(input_tokens=12 + 3, output_tokens=14)


def test_a_blocked_prompt_is_filtered_content_without_candidates_from_gemini(
    recorded: Recorded,
) -> None:
    reply = parse_response(recorded("gemini/response_blocked_prompt.json"))

    assert reply.content == []
    assert (reply.finish_reason, reply.candidates[0].provider_finish_reason) == (
        "content_filter",
        "SAFETY",
    )
    assert reply.provider_details == {"prompt_block_reason": "SAFETY"}


@pytest.mark.anyio
async def test_a_recorded_text_stream_folds_to_its_reply(recorded: Recorded) -> None:
    reply = await streamed(recorded("gemini/stream_text.sse"))

    assert reply.content == [TextBlock(text="Snow in Oslo today.")]
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(input_tokens=12, output_tokens=6)


@pytest.mark.anyio
async def test_streamed_usage_keeps_the_last_value_of_each_field_and_signatures_stay_put(
    recorded: Recorded,
) -> None:
    reply = await streamed(recorded("gemini/stream_function_call.sse"))

    thinking, call = reply.content
    assert thinking == ThinkingBlock(
        text="Checking the weather first.", signature="CiQBthought", provider="gcp.gemini"
    )
    assert isinstance(call, ToolCallBlock)
    assert (call.name, call.arguments) == ("get_weather", {"city": "Oslo"})
    assert call.provider_details == {"thought_signature": "CiQBcall", "synthetic_id": True}
    assert reply.finish_reason == "tool_call"
    # The last chunk omits thoughtsTokenCount: the earlier 16 still counts.
    assert reply.usage == Usage(input_tokens=40, output_tokens=9 + 16, reasoning_output_tokens=16)
