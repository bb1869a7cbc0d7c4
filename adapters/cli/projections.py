"""`chatledger projections status|rebuild|run`: the views derived from the event log.

`run` is the projection worker for `CHATLEDGER_PROJECTIONS=external`: it opens
the ledger with nothing projected inline and tails the log until SIGINT or
SIGTERM, finishing the batch in hand before it exits 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.cli.database import load_settings, opened_ledger, redacted_url
from adapters.cli.errors import CliInputError
from adapters.cli.options import AsJson, DatabaseUrl
from adapters.cli.output import console, emit, new_table
from adapters.ledger import Ledger

app = typer.Typer(help="Inspect, rebuild and run the projections (views).", no_args_is_help=True)


class ProjectionStatusOut(BaseModel):
    name: str
    position: int
    """The last notification (event log position) the view has processed."""
    head: int
    """The last notification recorded."""
    lag: int


class StatusOut(BaseModel):
    data: list[ProjectionStatusOut]


class RebuiltOut(BaseModel):
    name: str
    events_read: int
    position: int
    head: int


def status_of(ledger: Ledger) -> StatusOut:
    return StatusOut(
        data=[
            ProjectionStatusOut(name=s.name, position=s.position, head=s.head, lag=s.lag)
            for s in ledger.projection_status()
        ]
    )


def render_status(status: StatusOut) -> list[RenderableType]:
    table = new_table("projections")
    for column in ("name", "position", "head", "lag"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in status.data:
        table.add_row(row.name, str(row.position), str(row.head), str(row.lag))
    return [table]


@app.command("status")
def status(database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """Each view's position in the event log, the head of the log, and the lag."""
    settings = load_settings(database_url=database_url)
    with opened_ledger(settings) as ledger:
        out = status_of(ledger)
    emit(out, as_json, render_status)


@app.command("rebuild")
def rebuild(
    name: Annotated[str, typer.Argument(help="session_list or history.", show_default=False)],
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Empty one view and rebuild it from the first event."""
    settings = load_settings(database_url=database_url)
    with opened_ledger(settings) as ledger:
        known = sorted(ledger.runner.projections)
        if name not in known:
            raise CliInputError(f"unknown projection {name!r} (known: {', '.join(known)})")
        progress = console(stderr=True)
        if progress.is_terminal:
            read = rebuild_showing_progress(ledger, name, progress)
        else:
            read = ledger.rebuild_projection(name)
        now = next(s for s in ledger.projection_status() if s.name == name)
    out = RebuiltOut(name=name, events_read=read, position=now.position, head=now.head)
    emit(out, as_json, lambda o: [f"rebuilt {o.name}: {o.events_read} events read"])


def rebuild_showing_progress(ledger: Ledger, name: str, out: Console) -> int:
    """Rebuild, with a progress bar fed after every batch."""
    columns: list[Any] = [
        TextColumn(f"rebuilding {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(name, total=None)
        return ledger.rebuild_projection(
            name, on_progress=lambda done, head: progress.update(task, completed=done, total=head)
        )


@contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `stop.set()` while the block runs."""

    def handle(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("run")
def run(
    interval: Annotated[
        float, typer.Option(help="Seconds to wait when the log has nothing new.")
    ] = 0.1,
    database_url: DatabaseUrl = None,
) -> None:
    """Run a projection worker until SIGINT or SIGTERM (for CHATLEDGER_PROJECTIONS=external)."""
    if interval <= 0:
        raise CliInputError(f"--interval must be positive, got {interval}")
    settings = load_settings(database_url=database_url, projections="external")
    stop = threading.Event()
    with opened_ledger(settings) as ledger, stopping_on_signals(stop):
        names = ", ".join(ledger.runner.projections)
        typer.echo(
            f"projection worker for {names} on {redacted_url(settings)}"
            f" (polling every {interval:g}s); stop with Ctrl-C or SIGTERM"
        )
        ledger.runner.run_forever(stop, interval=interval)
