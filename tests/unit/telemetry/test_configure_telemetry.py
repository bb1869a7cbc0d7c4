"""Entry points get their providers from the standard `OTEL_*` variables, passed as a mapping.

Nothing here is exported over the network: OTLP exporters are only constructed, pointed at
127.0.0.1, and shut down before anything was recorded.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from adapters.llm.instrumented import InstrumentedChatModel
from adapters.telemetry import TelemetryConfigError, configure_telemetry
from domain.llm import ChatReply, ChatRequest, ReplyDelta
from domain.message import Message


def test_with_nothing_set_nothing_is_exported() -> None:
    console = io.StringIO()
    telemetry = configure_telemetry({}, console=console)

    with telemetry.tracer_provider.get_tracer("test").start_as_current_span("quiet"):
        pass
    telemetry.meter_provider.get_meter("test").create_counter("quiet").add(1)
    telemetry.shutdown()

    assert telemetry.span_exporters == ()
    assert telemetry.metric_exporters == ()
    assert telemetry.capture_content is None
    assert console.getvalue() == ""


def test_the_resource_names_the_service() -> None:
    default = configure_telemetry({})
    named = configure_telemetry(
        {"OTEL_SERVICE_NAME": "chatledger-api", "OTEL_RESOURCE_ATTRIBUTES": "team=llm,x=a%20b"}
    )

    assert default.tracer_provider.resource.attributes["service.name"] == "chatledger"
    attributes = named.tracer_provider.resource.attributes
    assert attributes["service.name"] == "chatledger-api"
    assert (attributes["team"], attributes["x"]) == ("llm", "a b")
    assert named.meter_provider._sdk_config.resource.attributes["service.name"] == (
        "chatledger-api"
    )
    default.shutdown()
    named.shutdown()


def test_console_exporters_write_spans_and_metrics_to_the_given_stream() -> None:
    console = io.StringIO()
    telemetry = configure_telemetry(
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console"}, console=console
    )

    with telemetry.tracer_provider.get_tracer("test").start_as_current_span("visible"):
        pass
    telemetry.meter_provider.get_meter("test").create_counter("visible.count").add(3)
    telemetry.shutdown()

    assert [type(e) for e in telemetry.span_exporters] == [ConsoleSpanExporter]
    assert [type(e) for e in telemetry.metric_exporters] == [ConsoleMetricExporter]
    span, end = json.JSONDecoder().raw_decode(console.getvalue())
    assert span["name"] == "visible"
    assert "visible.count" in console.getvalue()[end:]


def test_otlp_exporters_are_built_for_the_configured_endpoint_without_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[Any] = []
    guarded_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        guarded_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    telemetry = configure_telemetry(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:9999/custom/metrics",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20t",
        }
    )

    (spans,) = telemetry.span_exporters
    (metrics,) = telemetry.metric_exporters
    assert isinstance(spans, OTLPSpanExporter)
    assert isinstance(metrics, OTLPMetricExporter)
    assert spans._endpoint == "http://127.0.0.1:4318/v1/traces"
    assert metrics._endpoint == "http://127.0.0.1:9999/custom/metrics"
    telemetry.shutdown()  # nothing was recorded, so nothing is sent
    assert attempts == []


def test_several_exporters_may_be_named_and_none_wins() -> None:
    both = configure_telemetry({"OTEL_TRACES_EXPORTER": "console, otlp"}, console=io.StringIO())
    off = configure_telemetry({"OTEL_TRACES_EXPORTER": "console,none"})

    assert [type(e) for e in both.span_exporters] == [ConsoleSpanExporter, OTLPSpanExporter]
    assert off.span_exporters == ()
    both.shutdown()
    off.shutdown()


def test_sdk_disabled_exports_nothing() -> None:
    telemetry = configure_telemetry(
        {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, console=io.StringIO()
    )

    assert telemetry.span_exporters == ()
    telemetry.shutdown()


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_METRICS_EXPORTER": "prometheus"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "soon"},
    ],
)
def test_settings_this_build_cannot_honour_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(TelemetryConfigError):
        configure_telemetry(environ, console=io.StringIO())


@pytest.mark.anyio
async def test_instrument_wraps_a_model_with_these_providers_and_the_capture_setting() -> None:
    class Model:
        provider = "openai"

        def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
            raise NotImplementedError

        async def complete(self, request: ChatRequest) -> ChatReply:
            return ChatReply(candidates=[], provider=self.provider)

    console = io.StringIO()
    telemetry = configure_telemetry(
        {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only",
        },
        console=console,
    )

    model = telemetry.instrument(Model())
    await model.complete(ChatRequest(model="gpt-x", messages=[Message.user("hi")]))
    telemetry.shutdown()

    assert isinstance(model, InstrumentedChatModel)
    span = json.loads(console.getvalue())
    assert span["name"] == "chat gpt-x"
    assert span["attributes"]["gen_ai.provider.name"] == "openai"
    assert "gen_ai.input.messages" in span["attributes"]
