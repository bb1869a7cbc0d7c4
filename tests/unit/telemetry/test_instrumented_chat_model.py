"""Every model call leaves one GenAI span and its metrics (llm-wire-formats §1).

Given a scripted inner model wrapped in `InstrumentedChatModel` with in-memory exporters,
when a call completes, streams, fails or is abandoned, then the span, its attributes and the
metric points are the ones the conventions ask for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from adapters.llm import semconv
from adapters.llm.instrumented import InstrumentedChatModel
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
from domain.errors import ProviderRateLimitError, ProviderStreamError
from domain.llm import (
    ChatRequest,
    ChatSettings,
    PartStarted,
    ResponseEnded,
    ToolDefinition,
    Usage,
    fold_deltas,
)
from domain.message import Message

pytestmark = pytest.mark.anyio

Make = Callable[..., Any]

CONTENT_ATTRIBUTES = {
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_DEFINITIONS,
}
REQUEST_SETTING_ATTRIBUTES = {
    semconv.GEN_AI_REQUEST_MAX_TOKENS,
    semconv.GEN_AI_REQUEST_TEMPERATURE,
    semconv.GEN_AI_REQUEST_TOP_P,
    semconv.GEN_AI_REQUEST_TOP_K,
    semconv.GEN_AI_REQUEST_STOP_SEQUENCES,
    semconv.GEN_AI_REQUEST_SEED,
    semconv.GEN_AI_OUTPUT_TYPE,
    semconv.GEN_AI_CONVERSATION_ID,
}


def chat_request(**fields: Any) -> ChatRequest:
    fields.setdefault("model", "claude-x")
    fields.setdefault("messages", [Message.user("Weather in Oslo?")])
    return ChatRequest(**fields)


async def drain(model: InstrumentedChatModel, request: ChatRequest) -> list[Any]:
    return [delta async for delta in model.stream(request)]


# ------------------------------------------------------------------ complete


async def test_a_completed_call_leaves_one_client_span_named_after_operation_and_model(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    model = make_instrumented(make_model())

    reply = await model.complete(chat_request())

    span = recorder.only_span()
    assert span.name == "chat claude-x"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_REQUEST_MODEL: "claude-x",
        semconv.SERVER_ADDRESS: "api.anthropic.com",
        semconv.SERVER_PORT: 443,
        semconv.GEN_AI_RESPONSE_ID: "msg_01",
        semconv.GEN_AI_RESPONSE_MODEL: "claude-x-2026",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("end_turn",),
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 12,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
    }
    assert reply.text == "Hello, Oslo"
    assert model.provider == "anthropic"


async def test_sampling_attributes_are_given_when_the_span_starts(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    seen: dict[str, Any] = {}

    def look(_: int) -> None:
        seen.update(trace.get_current_span().attributes)  # type: ignore[attr-defined]

    await make_instrumented(make_model(during=look)).complete(chat_request())

    assert {
        semconv.GEN_AI_OPERATION_NAME,
        semconv.GEN_AI_PROVIDER_NAME,
        semconv.GEN_AI_REQUEST_MODEL,
        semconv.SERVER_ADDRESS,
        semconv.SERVER_PORT,
    } <= set(seen)
    assert semconv.GEN_AI_RESPONSE_ID not in seen


async def test_operation_name_and_server_come_from_the_inner_model(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model(
        provider="gcp.gemini", operation_name="generate_content", server_address=None
    )

    await make_instrumented(inner).complete(chat_request(model="gemini-x"))

    span = recorder.only_span()
    assert span.name == "generate_content gemini-x"
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "gcp.gemini"
    assert semconv.SERVER_ADDRESS not in span.attributes
    assert semconv.SERVER_PORT not in span.attributes


async def test_request_attributes_are_absent_for_settings_left_unset(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    await make_instrumented(make_model()).complete(chat_request())

    attributes = recorder.only_span().attributes
    assert not REQUEST_SETTING_ATTRIBUTES & set(attributes)
    assert semconv.GEN_AI_REQUEST_STREAM not in attributes


async def test_request_attributes_carry_the_settings_that_were_set(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    settings = ChatSettings(
        max_tokens=256, temperature=0.2, top_p=0.9, top_k=40, stop=["END"], seed=7,
        response_format="json",
    )  # fmt: skip

    await make_instrumented(make_model()).complete(
        chat_request(settings=settings, conversation_id="session-1")
    )

    attributes = recorder.only_span().attributes
    assert {k: attributes[k] for k in REQUEST_SETTING_ATTRIBUTES} == {
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 256,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_REQUEST_TOP_P: 0.9,
        semconv.GEN_AI_REQUEST_TOP_K: 40.0,
        semconv.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        semconv.GEN_AI_REQUEST_SEED: 7,
        semconv.GEN_AI_OUTPUT_TYPE: "json",
        semconv.GEN_AI_CONVERSATION_ID: "session-1",
    }


async def test_usage_details_are_recorded_when_the_provider_reports_them(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    usage = Usage(
        input_tokens=2150,
        output_tokens=120,
        cache_read_input_tokens=1800,
        cache_write_input_tokens=0,
        reasoning_output_tokens=40,
    )

    await make_instrumented(make_model(end={"usage": usage})).complete(chat_request())

    attributes = recorder.only_span().attributes
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 2150
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 120
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1800
    assert attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 0
    assert attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 40


async def test_without_usage_there_are_no_token_attributes_nor_token_points(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    await make_instrumented(make_model(end={"usage": None})).complete(chat_request())

    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in recorder.only_span().attributes
    assert recorder.points(semconv.GEN_AI_CLIENT_TOKEN_USAGE) == []
    assert len(recorder.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)) == 1


async def test_finish_reasons_fall_back_to_the_normalised_reason(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model(end={"finish_reason": "length", "provider_finish_reason": None})

    await make_instrumented(inner).complete(chat_request())

    assert recorder.only_span().attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)


# ------------------------------------------------------------------ stream


async def test_a_streamed_call_leaves_one_span_with_stream_and_first_chunk_attributes(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model()

    deltas = await drain(make_instrumented(inner), chat_request())

    span = recorder.only_span()
    assert span.name == "chat claude-x"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = span.attributes
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == "msg_01"
    assert attributes[semconv.GEN_AI_RESPONSE_MODEL] == "claude-x-2026"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    first_chunk = attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert 0 < first_chunk <= (span.end_time - span.start_time) / 1e9
    assert not CONTENT_ATTRIBUTES & set(attributes)
    assert deltas[:-1] == inner.deltas[:-1]
    assert inner.closed


async def test_time_to_first_chunk_is_for_streams_only(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    await make_instrumented(make_model()).complete(chat_request())

    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in recorder.only_span().attributes


# ------------------------------------------------------------------ ids and current span


async def test_the_reply_carries_the_calls_trace_and_span_ids(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    reply = await make_instrumented(make_model()).complete(chat_request())

    context = recorder.only_span().context
    assert reply.trace_id == f"{context.trace_id:032x}"
    assert reply.span_id == f"{context.span_id:016x}"


async def test_the_streams_last_delta_carries_the_calls_trace_and_span_ids(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    deltas = await drain(make_instrumented(make_model()), chat_request())

    context = recorder.only_span().context
    end = deltas[-1]
    assert isinstance(end, ResponseEnded)
    assert (end.trace_id, end.span_id) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    reply = fold_deltas(deltas, provider="anthropic")
    assert (reply.trace_id, reply.span_id) == (end.trace_id, end.span_id)


async def test_the_call_span_is_a_child_of_the_callers_span(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    tracer = recorder.tracer_provider.get_tracer("test")
    model = make_instrumented(make_model())

    with tracer.start_as_current_span("turn") as turn:
        await model.complete(chat_request())
        await drain(model, chat_request())

    calls = [s for s in recorder.spans.get_finished_spans() if s.name != "turn"]
    assert len(calls) == 2
    for call in calls:
        assert call.parent is not None
        assert call.parent.span_id == turn.get_span_context().span_id
        assert call.context.trace_id == turn.get_span_context().trace_id


async def test_the_call_span_is_current_while_the_inner_model_completes(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    def retry_event(_: int) -> None:
        trace.get_current_span().add_event(semconv.GEN_AI_RETRY_EVENT, {"retry.attempt": 2})

    await make_instrumented(make_model(during=retry_event)).complete(chat_request())

    (event,) = recorder.only_span().events
    assert event.name == semconv.GEN_AI_RETRY_EVENT
    assert event.attributes == {"retry.attempt": 2}


async def test_the_call_span_is_current_inside_the_stream_but_not_between_its_deltas(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    def retry_event(index: int) -> None:
        trace.get_current_span().add_event(semconv.GEN_AI_RETRY_EVENT, {"at": index})

    tracer = recorder.tracer_provider.get_tracer("test")
    model = make_instrumented(make_model(during=retry_event))
    seen_by_consumer = []

    with tracer.start_as_current_span("turn") as turn:
        async for _ in model.stream(chat_request()):
            seen_by_consumer.append(trace.get_current_span())

    call = recorder.only_span("chat claude-x")
    assert [e.attributes["at"] for e in call.events] == [0, 1, 2, 3, 4]
    assert all(span is turn for span in seen_by_consumer)
    assert recorder.only_span("turn").events == ()


# ------------------------------------------------------------------ errors and cancellation


async def test_a_provider_error_sets_status_error_type_and_records_the_exception(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    error = ProviderRateLimitError(429, "slow down", error_type="rate_limit_error")

    with pytest.raises(ProviderRateLimitError):
        await make_instrumented(make_model(error=error)).complete(chat_request())

    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "rate_limit_error"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("ProviderRateLimitError")
    (point,) = recorder.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert point.attributes[semconv.ERROR_TYPE] == "rate_limit_error"
    assert recorder.points(semconv.GEN_AI_CLIENT_TOKEN_USAGE) == []


async def test_any_other_exception_gives_its_class_name_as_error_type(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    with pytest.raises(KeyError):
        await make_instrumented(make_model(error=KeyError("x"))).complete(chat_request())

    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "KeyError"


async def test_a_stream_that_dies_midway_puts_error_in_the_finish_reason_slot(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    error = ProviderStreamError("connection lost", error_type="ReadTimeout")
    model = make_instrumented(make_model(error=error, fail_after=3))
    received = []

    with pytest.raises(ProviderStreamError):
        async for delta in model.stream(chat_request()):
            received.append(delta)

    assert len(received) == 3
    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "ReadTimeout"
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("error",)
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID] == "msg_01"
    assert [e.name for e in span.events] == ["exception"]


async def test_a_consumer_that_stops_reading_early_cancels_the_call(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model()
    stream = make_instrumented(inner).stream(chat_request())

    await anext(stream)
    await stream.aclose()

    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "cancelled"
    assert semconv.GEN_AI_RESPONSE_FINISH_REASONS not in span.attributes
    assert inner.closed
    (point,) = recorder.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert point.attributes[semconv.ERROR_TYPE] == "cancelled"


async def test_a_consumer_that_stops_after_the_reply_ended_succeeds(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model()
    stream = make_instrumented(inner).stream(chat_request())

    async for delta in stream:
        if isinstance(delta, ResponseEnded):
            break
    await stream.aclose()

    span = recorder.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert inner.closed


async def test_a_cancelled_task_cancels_the_call(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model(hang=True, started=anyio.Event())
    model = make_instrumented(inner)

    async with anyio.create_task_group() as group:
        group.start_soon(model.complete, chat_request())
        await inner.started.wait()
        group.cancel_scope.cancel()

    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "cancelled"
    assert [e.name for e in span.events] == []


# ------------------------------------------------------------------ metrics


async def test_duration_metric_equals_the_span_duration_and_has_no_ids(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    await make_instrumented(make_model()).complete(chat_request(conversation_id="session-1"))

    span = recorder.only_span()
    (point,) = recorder.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert point.count == 1
    assert point.sum == pytest.approx((span.end_time - span.start_time) / 1e9, abs=1e-9)
    assert dict(point.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_REQUEST_MODEL: "claude-x",
        semconv.GEN_AI_RESPONSE_MODEL: "claude-x-2026",
        semconv.SERVER_ADDRESS: "api.anthropic.com",
        semconv.SERVER_PORT: 443,
    }
    assert tuple(point.explicit_bounds) == semconv.DURATION_BUCKETS_S


async def test_token_usage_metric_has_one_point_per_token_type(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    await drain(make_instrumented(make_model()), chat_request(conversation_id="session-1"))

    points = recorder.points(semconv.GEN_AI_CLIENT_TOKEN_USAGE)
    by_type = {p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p for p in points}
    assert set(by_type) == {"input", "output"}
    assert (by_type["input"].sum, by_type["output"].sum) == (12, 5)
    for point in points:
        assert tuple(point.explicit_bounds) == semconv.TOKEN_BUCKETS
        assert semconv.GEN_AI_CONVERSATION_ID not in point.attributes
        assert semconv.GEN_AI_RESPONSE_ID not in point.attributes
        assert point.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "claude-x-2026"
        assert semconv.ERROR_TYPE not in point.attributes


# ------------------------------------------------------------------ content capture


def rich_request() -> ChatRequest:
    return chat_request(
        system="You are terse.",
        tools=[ToolDefinition(name="get_weather", description="Weather for a city")],
        messages=[
            Message(
                role="user",
                content=[
                    TextBlock(text="Summarise and check Oslo."),
                    ImageBlock(source=UrlSource(url="https://example.test/map.png")),
                    DocumentBlock(
                        source=Base64Source(data="JVBERi0=", media_type="application/pdf"),
                        media_type="application/pdf",
                    ),
                ],
            ),
            Message(
                role="assistant",
                content=[
                    ThinkingBlock(text="Need weather first.", provider="anthropic"),
                    ToolCallBlock(id="toolu_1", name="get_weather", arguments={"city": "Oslo"}),
                ],
            ),
            Message(
                role="tool",
                content=[
                    ToolResultBlock(tool_call_id="toolu_1", content=[TextBlock(text="3°C, snow")])
                ],
            ),
        ],
    )


@pytest.mark.parametrize("mode", [None, "", "false", "event_only"])
async def test_no_content_is_recorded_unless_asked_for_on_spans(
    recorder: Any, make_model: Make, make_instrumented: Make, mode: str | None
) -> None:
    model = make_instrumented(make_model(), capture_content=mode)

    await model.complete(rich_request())
    await drain(model, rich_request())

    for span in recorder.spans.get_finished_spans():
        assert not CONTENT_ATTRIBUTES & set(span.attributes)


@pytest.mark.parametrize("mode", ["span_only", "SPAN_AND_EVENT", "true"])
async def test_content_is_recorded_as_semconv_json_when_asked(
    recorder: Any, make_model: Make, make_instrumented: Make, mode: str
) -> None:
    await make_instrumented(make_model(), capture_content=mode).complete(rich_request())

    attributes = recorder.only_span().attributes
    assert json.loads(attributes[semconv.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": "You are terse."}
    ]
    assert json.loads(attributes[semconv.GEN_AI_TOOL_DEFINITIONS]) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {}},
        }
    ]
    assert json.loads(attributes[semconv.GEN_AI_INPUT_MESSAGES]) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Summarise and check Oslo."},
                {"type": "uri", "modality": "image", "uri": "https://example.test/map.png"},
                {
                    "type": "blob",
                    "modality": "document",
                    "mime_type": "application/pdf",
                    "content": "JVBERi0=",
                },
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Need weather first."},
                {
                    "type": "tool_call",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "arguments": {"city": "Oslo"},
                },
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "toolu_1", "response": "3°C, snow"}],
        },
    ]
    assert json.loads(attributes[semconv.GEN_AI_OUTPUT_MESSAGES]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello, Oslo"}],
            "finish_reason": "stop",
        }
    ]


async def test_streamed_output_content_is_the_fold_of_the_deltas(
    recorder: Any, make_model: Make, make_instrumented: Make
) -> None:
    inner = make_model()
    inner.deltas.insert(
        2, PartStarted(index=1, part=ToolCallBlock(id="call_1", name="f", arguments_raw="{}"))
    )

    await drain(make_instrumented(inner, capture_content="span_only"), chat_request())

    output = json.loads(recorder.only_span().attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert output == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello, Oslo"},
                {"type": "tool_call", "id": "call_1", "name": "f", "arguments": {}},
            ],
            "finish_reason": "stop",
        }
    ]
