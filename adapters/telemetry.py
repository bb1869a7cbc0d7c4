"""OpenTelemetry providers for an entry point, chosen by the standard `OTEL_*` variables.

`configure_telemetry(environ)` builds a tracer provider and a meter provider with the
service's resource and the exporters that `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`
name (`otlp` over http/protobuf, `console`, `none`; default `none`, so nothing leaves the
process unless asked). It never sets the global providers: the entry point may, tests never do.
It takes the environment as a mapping, so the composition root passes what `Settings` read
and tests pass dicts. Read from that mapping: the exporter choices, `OTEL_SDK_DISABLED`,
`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, the OTLP endpoint, headers and protocol,
`OTEL_METRIC_EXPORT_INTERVAL` and `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`; the SDK
and the OTLP exporter still read their finer settings (sampler, TLS files, compression,
timeouts) from the process environment themselves. Imports the OpenTelemetry SDK and
exporters, and `adapters.llm.instrumented`; entry points only construct it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import IO
from urllib.parse import unquote

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.util.re import parse_env_headers

from adapters.llm.instrumented import InstrumentedChatModel
from domain.ports import ChatModel

DEFAULT_SERVICE_NAME = "chatledger"
OTLP_PROTOCOL = "http/protobuf"
CAPTURE_CONTENT_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class TelemetryConfigError(ValueError):
    """An `OTEL_*` variable names something this build cannot do."""


@dataclass(frozen=True)
class Telemetry:
    """The providers an entry point hands to the adapters it builds, and their shutdown."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    capture_content: str | None = None
    """The `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` value (None: no content)."""
    span_exporters: tuple[SpanExporter, ...] = ()
    metric_exporters: tuple[MetricExporter, ...] = ()
    """What the providers export to, in the order the variables name them (for diagnostics)."""

    def instrument(self, model: ChatModel) -> InstrumentedChatModel:
        """`model` wrapped so its calls are traced and measured with these providers."""
        return InstrumentedChatModel(
            model,
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            capture_content=self.capture_content,
        )

    def shutdown(self) -> None:
        """Flush what is pending and stop the exporters (once, at process exit)."""
        try:
            self.tracer_provider.shutdown()
        finally:
            self.meter_provider.shutdown()


def configure_telemetry(environ: Mapping[str, str], *, console: IO[str] | None = None) -> Telemetry:
    """Providers configured from `environ` (`os.environ` in production).

    `console` receives the `console` exporters' output (default stderr: stdout is the CLI's).
    """
    out = console if console is not None else sys.stderr
    disabled = _flag(environ, "OTEL_SDK_DISABLED")
    trace_exporters = [] if disabled else _exporters(environ, "OTEL_TRACES_EXPORTER")
    metric_names = [] if disabled else _exporters(environ, "OTEL_METRICS_EXPORTER")
    resource = _resource(environ)

    tracer_provider = TracerProvider(resource=resource)
    span_exporters = tuple(_span_exporter(name, environ, out) for name in trace_exporters)
    for exporter in span_exporters:
        # Console output should appear as it happens; OTLP batches in a background thread.
        if isinstance(exporter, ConsoleSpanExporter):
            tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))

    interval = _interval_ms(environ)
    metric_exporters = tuple(_metric_exporter(name, environ, out) for name in metric_names)
    readers: list[MetricReader] = [
        PeriodicExportingMetricReader(exporter, export_interval_millis=interval)
        for exporter in metric_exporters
    ]
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    capture = environ.get(CAPTURE_CONTENT_VARIABLE, "").strip() or None
    return Telemetry(
        tracer_provider,
        meter_provider,
        capture_content=capture,
        span_exporters=span_exporters,
        metric_exporters=metric_exporters,
    )


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def _exporters(environ: Mapping[str, str], variable: str) -> list[str]:
    names = [n.strip().lower() for n in environ.get(variable, "none").split(",") if n.strip()]
    unknown = sorted(set(names) - {"otlp", "console", "none"})
    if unknown:
        raise TelemetryConfigError(
            f"{variable}={environ[variable]!r}: expected otlp, console or none, got {unknown}"
        )
    if "none" in names:
        return []
    return list(dict.fromkeys(names))


def _resource(environ: Mapping[str, str]) -> Resource:
    attributes: dict[str, str] = {}
    for item in environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = unquote(value.strip())
    attributes["service.name"] = (
        environ.get("OTEL_SERVICE_NAME", "").strip()
        or attributes.get("service.name")
        or DEFAULT_SERVICE_NAME
    )
    if "service.version" not in attributes:
        with contextlib.suppress(PackageNotFoundError):
            attributes["service.version"] = version("chatledger")
    return Resource.create(attributes)


def _interval_ms(environ: Mapping[str, str]) -> float:
    raw = environ.get("OTEL_METRIC_EXPORT_INTERVAL", "").strip()
    if not raw:
        return 60_000.0
    try:
        interval = float(raw)
    except ValueError:
        raise TelemetryConfigError(
            f"OTEL_METRIC_EXPORT_INTERVAL={raw!r}: expected milliseconds"
        ) from None
    if interval <= 0:
        raise TelemetryConfigError(f"OTEL_METRIC_EXPORT_INTERVAL={raw!r}: must be positive")
    return interval


def _span_exporter(name: str, environ: Mapping[str, str], out: IO[str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter(out=out)
    endpoint, headers = _otlp_target(environ, "TRACES", "v1/traces")
    return OTLPSpanExporter(endpoint=endpoint, headers=headers)


def _metric_exporter(name: str, environ: Mapping[str, str], out: IO[str]) -> MetricExporter:
    if name == "console":
        return ConsoleMetricExporter(out=out)
    endpoint, headers = _otlp_target(environ, "METRICS", "v1/metrics")
    return OTLPMetricExporter(endpoint=endpoint, headers=headers)


def _otlp_target(
    environ: Mapping[str, str], signal: str, path: str
) -> tuple[str | None, dict[str, str] | None]:
    """Endpoint and headers by the OTLP rules: the per-signal variable as given, else the
    base endpoint plus the signal's path; None leaves the exporter's default."""
    protocol = (
        environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or OTLP_PROTOCOL
    ).strip()
    if protocol != OTLP_PROTOCOL:
        raise TelemetryConfigError(
            f"OTLP protocol {protocol!r} is not supported: this build exports {OTLP_PROTOCOL}"
        )
    endpoint = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip() or None
    if endpoint is None and (base := environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()):
        endpoint = f"{base.removesuffix('/')}/{path}"
    raw_headers = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_HEADERS") or environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    headers = dict(parse_env_headers(raw_headers, liberal=True)) if raw_headers else None
    return endpoint, headers
