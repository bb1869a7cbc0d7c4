"""`chatledger serve`: the HTTP API, on loopback unless API keys protect it.

Listening on any other address needs authentication in force: `auth=required`,
or `auth=auto` with at least one key created (`chatledger keys create`).
Without it, `serve` refuses with one line and exit 2. An entry point: it builds
telemetry from `OTEL_*`, installs it as OpenTelemetry's global providers, and
flushes it when the server stops.
"""

from __future__ import annotations

import gc
import ipaddress
import os
from typing import Annotated

import typer

from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.options import DatabaseUrl
from adapters.cli.otel import command_telemetry
from adapters.ledger import Ledger
from adapters.settings import Settings


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
    """Serve the HTTP API (beyond loopback only with API keys in force)."""
    settings = load_settings(database_url=database_url, host=host, port=port)
    import uvicorn

    from adapters.http.app import create_app

    with (
        command_telemetry(os.environ, install_globally=True) as telemetry,
        opened_ledger(settings, telemetry=telemetry) as ledger,
    ):
        check_exposure(settings, ledger)
        app = create_app(ledger, settings)
        freeze_startup_objects()
        uvicorn.run(app, host=settings.host, port=settings.port)


def freeze_startup_objects() -> None:
    """Keep what start-up made (modules, schemas, the ledger) out of every later full
    garbage collection.

    A chat turn rebuilds the whole history as models; the garbage it leaves sets off a
    full collection every few turns, and each one scanned the ~87,000 objects of a
    started server: 27–34 ms, a turn's p95 doubled (docs/benchmarks.md, "Full mode").
    """
    gc.collect()
    gc.freeze()


def check_exposure(settings: Settings, ledger: Ledger) -> None:
    """Refuse a non-loopback address while the API answers without a key."""
    if is_loopback(settings.host) or ledger.keys_required(settings.auth):
        return
    raise CliInputError(
        f"refusing to listen on {settings.host}: the API has no authentication in force"
        f" (auth={settings.auth}, no API keys); create one with 'chatledger keys create'"
        " or listen on loopback (127.0.0.1, ::1, localhost)"
    )
