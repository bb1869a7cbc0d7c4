"""OpenTelemetry for the commands that call models or serve: built from `OTEL_*`, shut down at exit.

The entry point hands in the environment (`os.environ`); an `OTEL_*` value this
build cannot honour is a usage error (exit 2) before anything is opened. Only
`serve` installs the providers as OpenTelemetry's global ones (for what
instruments itself through the API); `chat` passes them to the ledger alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import metrics, trace

from adapters.cli.errors import CliInputError
from adapters.telemetry import Telemetry, TelemetryConfigError, configure_telemetry


@contextmanager
def command_telemetry(
    environ: Mapping[str, str], *, install_globally: bool = False
) -> Iterator[Telemetry]:
    """Telemetry configured from `environ`, flushed and shut down when the block ends."""
    try:
        telemetry = configure_telemetry(environ)
    except TelemetryConfigError as error:
        raise CliInputError(f"telemetry: {error}") from None
    if install_globally:
        trace.set_tracer_provider(telemetry.tracer_provider)
        metrics.set_meter_provider(telemetry.meter_provider)
    try:
        yield telemetry
    finally:
        telemetry.shutdown()
