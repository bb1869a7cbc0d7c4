"""Fixtures for the telemetry tests: SDK providers with in-memory exporters, a scripted model.

Providers are injected into the code under test; the global ones are never set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.llm.instrumented import InstrumentedChatModel
from domain.content import TextBlock
from domain.llm import (
    ChatReply,
    ChatRequest,
    PartDelta,
    PartStarted,
    ReplyDelta,
    ResponseEnded,
    ResponseStarted,
    Usage,
    fold_deltas,
)


@dataclass
class Recorder:
    """SDK providers whose spans and metrics stay in memory."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def only_span(self, name: str | None = None) -> ReadableSpan:
        spans = [s for s in self.spans.get_finished_spans() if name is None or s.name == name]
        assert len(spans) == 1, [s.name for s in self.spans.get_finished_spans()]
        return spans[0]

    def points(self, metric: str) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for m in scope_metrics.metrics:
                    if m.name == metric:
                        found += [
                            p for p in m.data.data_points if isinstance(p, HistogramDataPoint)
                        ]
        return found


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Recorder(tracer_provider, meter_provider, spans, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@dataclass
class FakeChatModel:
    """A `ChatModel` that replays scripted deltas, optionally failing after some of them.

    `during` runs inside the model before each delta (and before `complete` returns), with the
    index of the delta: tests use it to look at the current span from inside the model.
    """

    deltas: list[ReplyDelta]
    provider: str = "anthropic"
    operation_name: str = "chat"
    server_address: str | None = "api.anthropic.com"
    server_port: int | None = 443
    error: BaseException | None = None
    fail_after: int = 0
    hang: bool = False
    during: Callable[[int], None] | None = None
    closed: bool = False
    started: anyio.Event | None = None
    requests: list[ChatRequest] = field(default_factory=list)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        self.requests.append(request)
        try:
            for index, delta in enumerate(self.deltas):
                if self.error is not None and index == self.fail_after:
                    raise self.error
                if self.during is not None:
                    self.during(index)
                await anyio.lowlevel.checkpoint()
                yield delta
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True

    async def complete(self, request: ChatRequest) -> ChatReply:
        self.requests.append(request)
        if self.hang:
            self.started = self.started or anyio.Event()
            self.started.set()
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()
        if self.during is not None:
            self.during(0)
        if self.error is not None:
            raise self.error
        return fold_deltas(self.deltas, provider=self.provider)


def reply_deltas(**end: Any) -> list[ReplyDelta]:
    ended: dict[str, Any] = {
        "finish_reason": "stop",
        "provider_finish_reason": "end_turn",
        "usage": Usage(input_tokens=12, output_tokens=5),
    } | end
    return [
        ResponseStarted(response_id="msg_01", response_model="claude-x-2026"),
        PartStarted(index=0, part=TextBlock(text="")),
        PartDelta(index=0, text="Hello"),
        PartDelta(index=0, text=", Oslo"),
        ResponseEnded(**ended),
    ]


@pytest.fixture
def make_model() -> Callable[..., FakeChatModel]:
    """A scripted model: `make_model(deltas=..., error=..., ...)`; deltas default to a reply."""

    def make(**fields: Any) -> FakeChatModel:
        fields.setdefault("deltas", reply_deltas(**fields.pop("end", {})))
        return FakeChatModel(**fields)

    return make


@pytest.fixture
def make_instrumented(recorder: Recorder) -> Callable[..., InstrumentedChatModel]:
    """`make_instrumented(inner, capture_content=...)` wired to the recorder's providers."""

    def make(inner: FakeChatModel, **options: Any) -> InstrumentedChatModel:
        return InstrumentedChatModel(
            inner,
            tracer_provider=recorder.tracer_provider,
            meter_provider=recorder.meter_provider,
            **options,
        )

    return make
