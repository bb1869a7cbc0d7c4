"""Anthropic Messages JSON: request bodies built, recorded replies and streams read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.llm.anthropic import AnthropicChatModel, build_invocation, parse_response
from adapters.llm.errors import UnsupportedContentError
from domain.content import (
    Citation,
    DocumentBlock,
    TextBlock,
    TextSource,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
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
        model = AnthropicChatModel(client, api_key="k", base_url="http://llm.test")
        request = request_with(Message.user("hi"))
        return fold_deltas([d async for d in model.stream(request)], provider="anthropic")


def test_a_conversation_becomes_the_recorded_request_body(
    conversation: ChatRequest, recorded: Recorded
) -> None:
    assert build_invocation(conversation) == recorded("anthropic/request_conversation.json")


def test_max_tokens_is_always_sent_because_the_api_has_no_default() -> None:
    body = build_invocation(request_with(Message.user("hi")))

    assert body == {
        "model": "m",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    assert (
        build_invocation(request_with(Message.user("hi")), default_max_tokens=99)["max_tokens"]
        == 99
    )


def test_sampling_settings_are_sent_only_to_the_api_version_that_takes_them() -> None:
    request = request_with(Message.user("hi"), temperature=0.3, top_p=0.9, top_k=40, seed=1)

    current = build_invocation(request)
    older = build_invocation(request, version="2023-06-01")

    assert not {"temperature", "top_p", "top_k", "seed"} & current.keys()
    assert (older["temperature"], older["top_p"], older["top_k"]) == (0.3, 0.9, 40)
    assert "seed" not in older  # Anthropic has no seed


def test_tool_choices_take_anthropics_names() -> None:
    def choice(value: str) -> Any:
        return build_invocation(request_with(Message.user("hi"), tool_choice=value))["tool_choice"]

    assert choice("required") == {"type": "any"}
    assert choice("none") == {"type": "none"}
    assert choice("get_weather") == {"type": "tool", "name": "get_weather"}


def test_tool_results_open_the_merged_user_turn_that_follows_the_calls() -> None:
    body = build_invocation(
        request_with(
            Message.user("Weather?"),
            Message(role="assistant", content=[ToolCallBlock(id="toolu_1", name="w")]),
            Message(role="user", content=[TextBlock(text="Hurry.")]),
            Message(
                role="tool",
                content=[ToolResultBlock(tool_call_id="toolu_1", content=[TextBlock(text="snow")])],
            ),
        )
    )

    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "snow"},
                {"type": "text", "text": "Hurry."},
            ],
        },
    ]


def test_only_anthropics_own_signed_thinking_is_replayed_verbatim() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ThinkingBlock(text="theirs", signature="x", provider="gcp.gemini"),
            ThinkingBlock(text="", redacted_data="EmwK", provider="anthropic"),
            ThinkingBlock(text="ours", signature="EqQB", provider="anthropic"),
            TextBlock(text="Done."),
        ],
    )

    assert build_invocation(request_with(Message.user("hi"), assistant))["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "redacted_thinking", "data": "EmwK"},
            {"type": "thinking", "thinking": "ours", "signature": "EqQB"},
            {"type": "text", "text": "Done."},
        ],
    }


def test_failed_tools_and_text_documents_take_their_block_forms() -> None:
    result = ToolResultBlock(
        tool_call_id="toolu_1",
        is_error=True,
        content=[
            TextBlock(text="timeout"),
            DocumentBlock(source=TextSource(text="log"), media_type="text/plain", title="log"),
        ],
    )

    assert build_invocation(request_with(Message(role="tool", content=[result])))["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [
                        {"type": "text", "text": "timeout"},
                        {
                            "type": "document",
                            "source": {"type": "text", "media_type": "text/plain", "data": "log"},
                            "title": "log",
                        },
                    ],
                    "is_error": True,
                }
            ],
        }
    ]


def test_a_document_in_an_assistant_turn_is_refused_by_the_current_api_version() -> None:
    document = DocumentBlock(source=TextSource(text="notes"), media_type="text/plain")
    request = request_with(Message(role="assistant", content=[document]))

    with pytest.raises(UnsupportedContentError, match="2026-10-21"):
        build_invocation(request)
    assert build_invocation(request, version="2023-06-01")["messages"][0]["role"] == "assistant"


def test_json_output_without_a_schema_is_refused() -> None:
    with pytest.raises(UnsupportedContentError, match="schema"):
        build_invocation(request_with(Message.user("hi"), response_format="json"))


def test_thinking_text_and_a_tool_call_are_read_with_cache_tokens_added_to_input(
    recorded: Recorded,
) -> None:
    reply = parse_response(recorded("anthropic/response_thinking_tool_use.json"))

    assert reply.content == [
        ThinkingBlock(text="User wants weather…", signature="EqQBsig", provider="anthropic"),
        TextBlock(text="Let me check."),
        ToolCallBlock(
            id="toolu_01A",
            name="get_weather",
            arguments={"city": "Oslo"},
            arguments_raw='{"city": "Oslo"}',
        ),
    ]
    assert (reply.finish_reason, reply.candidates[0].provider_finish_reason) == (
        "tool_call",
        "tool_use",
    )
    assert reply.usage == Usage(
        input_tokens=42 + 1800 + 100,
        output_tokens=87,
        cache_read_input_tokens=1800,
        cache_write_input_tokens=100,
        reasoning_output_tokens=40,
    )
    assert (reply.response_id, reply.response_model) == ("msg_01XY", "claude-sonnet-5-20261001")


def test_citations_and_the_matched_stop_sequence_are_kept(recorded: Recorded) -> None:
    reply = parse_response(recorded("anthropic/response_citations.json"))

    assert reply.content == [
        TextBlock(
            text="Revenue rose 4 %.",
            citations=[
                Citation(
                    cited_text="Revenue grew by 4 percent.",
                    document_index=0,
                    document_title="q3.pdf",
                    start=120,
                    end=146,
                )
            ],
        )
    ]
    assert reply.finish_reason == "stop"
    assert reply.provider_details == {"stop_sequence": "END"}
    assert reply.usage == Usage(input_tokens=900, output_tokens=12)


def test_a_paused_turn_keeps_only_its_raw_reason_and_redacted_thinking_survives(
    recorded: Recorded,
) -> None:
    reply = parse_response(recorded("anthropic/response_redacted_pause.json"))

    assert reply.content[0] == ThinkingBlock(
        text="", redacted_data="EmwKredacted", provider="anthropic"
    )
    assert (reply.finish_reason, reply.candidates[0].provider_finish_reason) == (None, "pause_turn")


@pytest.mark.anyio
async def test_a_recorded_tool_use_stream_folds_to_its_reply(recorded: Recorded) -> None:
    reply = await streamed(recorded("anthropic/stream_tool_use.sse"))

    assert reply.content == [
        TextBlock(text="Let me check."),
        ToolCallBlock(
            id="toolu_01A",
            name="get_weather",
            arguments={"city": "Oslo"},
            arguments_raw='{"city": "Oslo"}',
        ),
    ]
    assert reply.finish_reason == "tool_call"
    assert reply.usage == Usage(
        input_tokens=1842,
        output_tokens=87,
        cache_read_input_tokens=1800,
        cache_write_input_tokens=0,
    )


@pytest.mark.anyio
async def test_thinking_its_signature_and_an_argument_less_call_stream_in_order(
    recorded: Recorded,
) -> None:
    reply = await streamed(recorded("anthropic/stream_thinking.sse"))

    assert reply.content == [
        ThinkingBlock(text="Two plus two is four.", signature="EqQBthinksig", provider="anthropic"),
        ToolCallBlock(id="toolu_02B", name="now", arguments={}, arguments_raw="{}"),
        TextBlock(text="4"),
    ]
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(
        input_tokens=30,
        output_tokens=25,
        cache_read_input_tokens=0,
        cache_write_input_tokens=0,
        reasoning_output_tokens=18,
    )
