"""`InstrumentedChatModel`: one OpenTelemetry GenAI span and its metrics around every model call.

It wraps any `ChatModel` and delegates to it; the provider adapters stay free of span
bookkeeping except for `gen_ai.retry` events, which they add to `trace.get_current_span()`:
the call's span is the current span whenever the inner model runs, also between the
iterations of a stream, and never while the caller's code runs between them. The span's
trace and span ids travel back on the `ResponseEnded` delta and the `ChatReply`, so the turn
can record which span produced a reply. Names come from `adapters.llm.semconv`; message
content is recorded only when asked (llm-wire-formats §1.6). Reads no environment variables:
the composition root passes the content-capture setting in. Imports the domain,
`adapters.llm.semconv` and the OpenTelemetry API.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, assert_never

import anyio
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import Histogram, MeterProvider, get_meter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from adapters.llm import semconv
from domain.content import (
    Base64Source,
    ContentBlock,
    DocumentBlock,
    FileSource,
    ImageBlock,
    TextBlock,
    TextSource,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UrlSource,
)
from domain.errors import ProviderError
from domain.llm import (
    Candidate,
    ChatReply,
    ChatRequest,
    ReplyDelta,
    ResponseEnded,
    ResponseStarted,
    Usage,
    fold_deltas,
)
from domain.message import Message
from domain.ports import ChatModel

INSTRUMENTATION_SCOPE = "chatledger.llm"

CONTENT_ON_SPANS = frozenset({"span_only", "span_and_event", "true"})
"""`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` values that put content on spans.
`event_only` records nothing here: the details log event is not emitted (yet)."""

Attributes = dict[str, AttributeValue]


def captures_content_on_spans(mode: str | None) -> bool:
    """Whether a capture-content setting (the env variable's value) asks for span content."""
    return (mode or "").strip().lower() in CONTENT_ON_SPANS


class InstrumentedChatModel:
    """A `ChatModel` that traces and measures each call of the model it wraps.

    `inner` may offer `operation_name` (default `chat`), `server_address` and `server_port`;
    they become `gen_ai.operation.name`, `server.address` and `server.port`.
    """

    def __init__(
        self,
        inner: ChatModel,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        capture_content: str | None = None,
    ) -> None:
        self.inner = inner
        self.provider = inner.provider
        self._capture_content = captures_content_on_spans(capture_content)
        self._tracer = trace.get_tracer(INSTRUMENTATION_SCOPE, tracer_provider=tracer_provider)
        meter = get_meter(INSTRUMENTATION_SCOPE, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            semconv.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS_S,
        )
        self._tokens = meter.create_histogram(
            semconv.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=semconv.TOKEN_BUCKETS,
        )
        operation = getattr(inner, "operation_name", None)
        self._operation = operation if isinstance(operation, str) else semconv.OPERATION_CHAT
        address = getattr(inner, "server_address", None)
        port = getattr(inner, "server_port", None)
        self._server_address = address if isinstance(address, str) and address else None
        self._server_port = port if isinstance(port, int) and self._server_address else None

    async def complete(self, request: ChatRequest) -> ChatReply:
        """The inner model's reply, with the call's trace and span ids."""
        call = self._start(request, streaming=False)
        token = otel_context.attach(call.context)
        try:
            reply = await self.inner.complete(request)
        except BaseException as error:
            call.fail(error, cancelled_type=anyio.get_cancelled_exc_class())
            raise
        finally:
            otel_context.detach(token)
        call.succeed(
            response_id=reply.response_id,
            response_model=reply.response_model,
            finish_reasons=_finish_reasons(reply),
            usage=reply.usage,
            reply=reply if self._capture_content else None,
        )
        return reply.model_copy(update=call.ids)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        """The inner model's deltas; the final `ResponseEnded` carries the call's ids."""
        call = self._start(request, streaming=True)
        cancelled_type = anyio.get_cancelled_exc_class()
        collected: list[ReplyDelta] = []
        response_id: str | None = None
        response_model: str | None = None
        ended: ResponseEnded | None = None

        def succeed() -> None:
            reason = (ended.provider_finish_reason or ended.finish_reason) if ended else None
            call.succeed(
                response_id=response_id,
                response_model=response_model,
                finish_reasons=[reason] if reason else None,
                usage=ended.usage if ended else None,
                reply=fold_deltas(collected, provider=self.provider)
                if self._capture_content
                else None,
            )

        # The span is attached only while the inner stream runs, never across our own
        # `yield`: the caller's code between iterations keeps its own current span.
        token = otel_context.attach(call.context)
        try:
            deltas = aiter(self.inner.stream(request))
        except BaseException as error:
            call.fail(error, cancelled_type=cancelled_type)
            raise
        finally:
            otel_context.detach(token)
        exhausted = False
        try:
            while True:
                token = otel_context.attach(call.context)
                try:
                    delta = await anext(deltas)
                except StopAsyncIteration:
                    exhausted = True
                    break
                except BaseException:
                    exhausted = True  # what escapes the inner stream finalised it
                    raise
                finally:
                    otel_context.detach(token)
                call.chunk_arrived()
                if isinstance(delta, ResponseStarted):
                    response_id = delta.response_id or response_id
                    response_model = delta.response_model or response_model
                    call.responded(response_id, response_model)
                elif isinstance(delta, ResponseEnded):
                    delta = delta.model_copy(update=call.ids)
                    ended = delta
                if self._capture_content:
                    collected.append(delta)
                yield delta
        except GeneratorExit:
            exhausted = True
            try:
                await _close(deltas, call)
            finally:
                # The consumer closed the stream: after the reply ended that is a success.
                if ended is not None:
                    succeed()
                else:
                    call.fail_cancelled()
            raise
        except BaseException as error:
            call.fail(error, cancelled_type=cancelled_type, stream_died=ended is None)
            raise
        finally:
            if not exhausted:
                await _close(deltas, call)
        succeed()

    def _start(self, request: ChatRequest, *, streaming: bool) -> _Call:
        model = request.model
        name = f"{self._operation} {model}" if model else self._operation
        start: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: self._operation,
            semconv.GEN_AI_PROVIDER_NAME: self.provider,
        }
        if model:
            start[semconv.GEN_AI_REQUEST_MODEL] = model
        if self._server_address is not None:
            start[semconv.SERVER_ADDRESS] = self._server_address
            if self._server_port is not None:
                start[semconv.SERVER_PORT] = self._server_port
        request_attributes = _request_attributes(request, streaming=streaming)
        if self._capture_content:
            request_attributes.update(_input_content(request))
        start_ns = time.time_ns()
        return _Call(
            self._tracer.start_span(
                name, kind=SpanKind.CLIENT, attributes=start, start_time=start_ns
            ),
            request_attributes,
            start_ns=start_ns,
            metric_attributes=start,
            duration=self._duration,
            tokens=self._tokens,
            streaming=streaming,
        )


class _Call:
    """The span and measurements of one call, from its start to its one end."""

    def __init__(
        self,
        span: Span,
        request_attributes: Attributes,
        *,
        start_ns: int,
        metric_attributes: Attributes,
        duration: Histogram,
        tokens: Histogram,
        streaming: bool,
    ) -> None:
        self.span = span
        self._start_ns = start_ns
        self._start_clock = time.perf_counter()
        self._metric_attributes = dict(metric_attributes)
        self._duration = duration
        self._tokens = tokens
        self._streaming = streaming
        self._first_chunk_s: float | None = None
        self._ended = False
        self.span.set_attributes(request_attributes)
        self.context = trace.set_span_in_context(self.span)
        span_context = self.span.get_span_context()
        self.ids: dict[str, str | None] = {"trace_id": None, "span_id": None}
        if span_context.is_valid:
            self.ids = {
                "trace_id": trace.format_trace_id(span_context.trace_id),
                "span_id": trace.format_span_id(span_context.span_id),
            }

    def chunk_arrived(self) -> None:
        if self._first_chunk_s is None:
            self._first_chunk_s = time.perf_counter() - self._start_clock

    def responded(self, response_id: str | None, response_model: str | None) -> None:
        """Record what the response said of itself (also when it fails later)."""
        if response_id:
            self.span.set_attribute(semconv.GEN_AI_RESPONSE_ID, response_id)
        if response_model:
            self.span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, response_model)
            self._metric_attributes[semconv.GEN_AI_RESPONSE_MODEL] = response_model

    def succeed(
        self,
        *,
        response_id: str | None,
        response_model: str | None,
        finish_reasons: Sequence[str] | None,
        usage: Usage | None,
        reply: ChatReply | None,
    ) -> None:
        self.responded(response_id, response_model)
        attributes: Attributes = {}
        if finish_reasons:
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = list(finish_reasons)
        if usage is not None:
            attributes.update(_usage_attributes(usage))
        if reply is not None:
            attributes[semconv.GEN_AI_OUTPUT_MESSAGES] = _dumps(
                [_output_message(candidate) for candidate in reply.candidates]
            )
        self.span.set_attributes(attributes)
        self._end(error_type=None, usage=usage)

    def fail(
        self,
        error: BaseException,
        *,
        cancelled_type: type[BaseException],
        stream_died: bool = False,
    ) -> None:
        if isinstance(error, (cancelled_type, GeneratorExit)):
            self.fail_cancelled()
            return
        if isinstance(error, ProviderError) and error.error_type:
            error_type = error.error_type
        else:
            error_type = type(error).__qualname__
        if stream_died:
            self.span.set_attribute(
                semconv.GEN_AI_RESPONSE_FINISH_REASONS, [semconv.FINISH_REASON_ERROR]
            )
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR, str(error) or error_type))
        self._end(error_type=error_type, usage=None)

    def fail_cancelled(self) -> None:
        self.span.set_status(Status(StatusCode.ERROR, "cancelled"))
        self._end(error_type=semconv.ERROR_TYPE_CANCELLED, usage=None)

    def _end(self, *, error_type: str | None, usage: Usage | None) -> None:
        if self._ended:
            return
        self._ended = True
        if self._streaming and self._first_chunk_s is not None:
            self.span.set_attribute(
                semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, self._first_chunk_s
            )
        if error_type is not None:
            self.span.set_attribute(semconv.ERROR_TYPE, error_type)
        end_ns = time.time_ns()
        self.span.end(end_time=end_ns)
        # The duration is the span's own, to the nanosecond.
        duration_attributes = dict(self._metric_attributes)
        if error_type is not None:
            duration_attributes[semconv.ERROR_TYPE] = error_type
        self._duration.record((end_ns - self._start_ns) / 1e9, duration_attributes)
        if usage is not None:
            for token_type, count in (
                (semconv.TOKEN_TYPE_INPUT, usage.input_tokens),
                (semconv.TOKEN_TYPE_OUTPUT, usage.output_tokens),
            ):
                self._tokens.record(
                    count, {**self._metric_attributes, semconv.GEN_AI_TOKEN_TYPE: token_type}
                )


async def _close(deltas: AsyncIterator[ReplyDelta], call: _Call) -> None:
    """Close an unfinished inner stream, with the call's span current (it may log to it)."""
    aclose = getattr(deltas, "aclose", None)
    if aclose is None:
        return
    token = otel_context.attach(call.context)
    try:
        await aclose()
    finally:
        otel_context.detach(token)


def _request_attributes(request: ChatRequest, *, streaming: bool) -> Attributes:
    settings = request.settings
    attributes: Attributes = {}
    if request.conversation_id:
        attributes[semconv.GEN_AI_CONVERSATION_ID] = request.conversation_id
    if settings.max_tokens is not None:
        attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] = settings.max_tokens
    if settings.temperature is not None:
        attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] = float(settings.temperature)
    if settings.top_p is not None:
        attributes[semconv.GEN_AI_REQUEST_TOP_P] = float(settings.top_p)
    if settings.top_k is not None:
        # A double in semconv 0.66b2 (semconv-genai main makes it an int).
        attributes[semconv.GEN_AI_REQUEST_TOP_K] = float(settings.top_k)
    if settings.stop is not None:
        attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(settings.stop)
    if settings.seed is not None:
        attributes[semconv.GEN_AI_REQUEST_SEED] = settings.seed
    if streaming:
        attributes[semconv.GEN_AI_REQUEST_STREAM] = True
    if settings.response_format == "json":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TYPE_JSON
    elif settings.response_format == "text":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TYPE_TEXT
    return attributes


def _usage_attributes(usage: Usage) -> Attributes:
    attributes: Attributes = {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
    }
    if usage.cache_read_input_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read_input_tokens
    if usage.cache_write_input_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = (
            usage.cache_write_input_tokens
        )
    if usage.reasoning_output_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_output_tokens
    return attributes


def _finish_reasons(reply: ChatReply) -> list[str] | None:
    """The provider's raw reason per candidate; a candidate without one gets `error`."""
    reasons = [c.provider_finish_reason or c.finish_reason for c in reply.candidates]
    if not any(reasons):
        return None
    return [reason or semconv.FINISH_REASON_ERROR for reason in reasons]


# Content, in the shapes of semconv's gen-ai-{input,output}-messages and
# gen-ai-system-instructions schemas (llm-wire-formats §1.6).


def _input_content(request: ChatRequest) -> Attributes:
    attributes: Attributes = {
        semconv.GEN_AI_INPUT_MESSAGES: _dumps([_input_message(m) for m in request.messages])
    }
    if request.system:
        attributes[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = _dumps(
            [{"type": "text", "content": request.system}]
        )
    if request.tools:
        attributes[semconv.GEN_AI_TOOL_DEFINITIONS] = _dumps(
            [
                {
                    "type": "function",
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }
                for tool in request.tools
            ]
        )
    return attributes


def _input_message(message: Message) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "role": message.role,
        "parts": [_part(block) for block in message.content],
    }
    if message.name:
        shaped["name"] = message.name
    return shaped


def _output_message(candidate: Candidate) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "role": "assistant",
        "parts": [_part(block) for block in candidate.content],
    }
    if candidate.finish_reason is not None:
        shaped["finish_reason"] = candidate.finish_reason
    return shaped


def _part(block: ContentBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "content": block.text}
    if isinstance(block, ThinkingBlock):
        return {"type": "reasoning", "content": block.text}
    if isinstance(block, ToolCallBlock):
        arguments = block.arguments if block.arguments is not None else block.arguments_raw
        return {"type": "tool_call", "id": block.id, "name": block.name, "arguments": arguments}
    if isinstance(block, ToolResultBlock):
        response: Any
        if all(isinstance(part, TextBlock) for part in block.content):
            response = "".join(part.text for part in block.content if isinstance(part, TextBlock))
        else:
            response = [_part(part) for part in block.content]
        return {"type": "tool_call_response", "id": block.tool_call_id, "response": response}
    if isinstance(block, ImageBlock):
        return _media(block.source, modality="image", mime_type=None)
    if isinstance(block, DocumentBlock):
        return _media(block.source, modality="document", mime_type=block.media_type)
    assert_never(block)


def _media(
    source: UrlSource | Base64Source | FileSource | TextSource,
    *,
    modality: str,
    mime_type: str | None,
) -> dict[str, Any]:
    part: dict[str, Any]
    if isinstance(source, TextSource):
        return {"type": "text", "content": source.text}
    if isinstance(source, UrlSource):
        part = {"type": "uri", "modality": modality, "uri": source.url}
    elif isinstance(source, Base64Source):
        part = {"type": "blob", "modality": modality, "content": source.data}
        mime_type = source.media_type
    elif isinstance(source, FileSource):
        part = {"type": "file", "modality": modality, "file_id": source.file_id}
    else:
        assert_never(source)
    if mime_type:
        part["mime_type"] = mime_type
    return part


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _conforms(model: InstrumentedChatModel) -> ChatModel:
    """Lets mypy check that the wrapper is a `ChatModel` itself."""
    return model
