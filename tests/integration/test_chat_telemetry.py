"""A turn's telemetry, with the real SDK and in-memory exporters: spans, metrics, stored ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from adapters.telemetry import Telemetry
from domain.context import CommandContext
from domain.session import Session
from tests.support.fake_provider import FakeProvider
from tests.support.fake_provider_script import Fail, Reply

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def metrics() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def ledger(
    sqlite_url: str,
    fake_provider: FakeProvider,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricReader,
) -> Iterator[Ledger]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meter_provider = MeterProvider(metric_readers=[metrics])
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
    ledger = open_ledger(
        Settings(
            database_url=sqlite_url,
            default_provider="openai",
            openai_base_url=fake_provider.openai_url,
            openai_api_key="test",
        ),
        telemetry=telemetry,
    )
    yield ledger
    ledger.close()
    tracer_provider.shutdown()
    meter_provider.shutdown()


def completion_of(ledger: Ledger, session_id: Any) -> Session.CompletionRecorded:
    (event,) = [
        e
        for e in ledger.list_events("t1", session_id).data
        if isinstance(e, Session.CompletionRecorded)
    ]
    return event


def test_each_provider_call_is_a_client_span_under_the_turn_and_its_ids_are_recorded(
    ledger: Ledger, fake_provider: FakeProvider, spans: InMemorySpanExporter
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Fail(status=429, retry_after=0), Reply(text="hello", chunks=2))

    ledger.chat(CTX, session.id, "hi", settings={"max_tokens": 20})

    by_name = {span.name: span for span in spans.get_finished_spans()}
    call = by_name["chat gpt-5-mini"]
    turn = next(s for name, s in by_name.items() if name.startswith("invoke_agent"))
    assert call.kind is SpanKind.CLIENT and call.parent is not None
    assert call.parent.span_id == turn.context.span_id
    attributes = call.attributes or {}
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.conversation.id"] == str(session.id)
    assert attributes["gen_ai.request.max_tokens"] == 20
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["server.address"] == "127.0.0.1"
    assert [e.name for e in call.events].count("gen_ai.retry") == 1
    completion = completion_of(ledger, session.id)
    assert completion.reply.trace_id == format(call.context.trace_id, "032x")
    assert completion.reply.span_id == format(call.context.span_id, "016x")
    assert completion.reply.attempts == 2
    assert completion.trace_id == format(turn.context.trace_id, "032x")
    assert "gen_ai.input.messages" not in attributes, "no content unless asked"


def test_token_usage_and_duration_are_measured(
    ledger: Ledger, fake_provider: FakeProvider, metrics: InMemoryMetricReader
) -> None:
    session = ledger.create_session(CTX)
    fake_provider.script(Reply(text="hello"))

    ledger.chat(CTX, session.id, "hi")

    data = metrics.get_metrics_data()
    assert data is not None
    points = {
        metric.name: metric.data.data_points
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    token_types = {p.attributes["gen_ai.token.type"] for p in points["gen_ai.client.token.usage"]}
    assert token_types == {"input", "output"}
    (duration,) = points["gen_ai.client.operation.duration"]
    assert duration.count == 1 and duration.attributes["gen_ai.provider.name"] == "openai"
