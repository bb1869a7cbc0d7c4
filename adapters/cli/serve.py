"""`chatledger serve`: the HTTP API on this machine's loopback interface.

An entry point: it builds telemetry from `OTEL_*`, installs it as
OpenTelemetry's global providers, and flushes it when the server stops.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.options import DatabaseUrl
from adapters.cli.otel import command_telemetry


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: $CHATLEDGER_HOST, else 127.0.0.1)"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: $CHATLEDGER_PORT, else 8321)")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (loopback only until API keys arrive)."""
    settings = load_settings(database_url=database_url, host=host, port=port)
    if not is_loopback(settings.host):
        raise CliInputError(
            f"refusing to listen on {settings.host}: without API keys the API has no"
            " authentication, so serve only listens on loopback (127.0.0.1, ::1, localhost)"
        )
    import uvicorn

    from adapters.http.app import create_app

    with (
        command_telemetry(os.environ, install_globally=True) as telemetry,
        opened_ledger(settings, telemetry=telemetry) as ledger,
    ):
        uvicorn.run(create_app(ledger, settings), host=settings.host, port=settings.port)
