"""`chatledger export|import`: move a session between databases as a verifiable bundle.

A bundle is NDJSON (`adapters.bundles`): a header, one checksummed line per
event and a footer. `export` writes the lines as the log is read, to stdout or
to a file that appears only once it is complete (a failure leaves no partial
bundle behind). `import` verifies every line before it writes anything: a
tampered bundle is one `error: bundle: line N: …` line and exit 2. Importing
the same bundle again stores nothing new (its events count as skipped).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, BinaryIO
from uuid import UUID

import typer
from rich.console import RenderableType
from rich.table import Table

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.files import writable_path, write_whole
from adapters.cli.options import Actor, AsJson, DatabaseUrl, SessionId, Tenant, file_bytes
from adapters.cli.output import emit
from adapters.http.schemas_branches import ImportedOut

STDIO = "-"


@dataclass
class Tally:
    """What went into a bundle as it was written."""

    lines: int = 0
    size: int = 0
    sessions: int = 0

    @property
    def events(self) -> int:
        return max(self.lines - 2, 0)  # less the header and the footer

    def add(self, line: bytes) -> None:
        if self.lines == 0:
            self.sessions = len(json.loads(line).get("sessions", []))
        self.lines += 1
        self.size += len(line)


def write_lines(lines: Iterable[bytes], out: BinaryIO) -> Tally:
    """Write each line as it comes; what was written."""
    tally = Tally()
    for line in lines:
        out.write(line)
        tally.add(line)
    out.flush()
    return tally


def export_session(
    session_id: SessionId,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the bundle to FILE ('-': stdout).",
        ),
    ] = STDIO,
    with_sources: Annotated[
        bool,
        typer.Option(
            "--with-sources",
            help="Also the sessions a fork or merge reads its history from, so the bundle"
            " imports into an empty database.",
        ),
    ] = False,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export a session (deleted ones too) as an NDJSON bundle, to stdout or a file.

    The bundle is byte-identical from any database; writing a file prints a summary on stderr.
    """
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    path = None if output == STDIO else writable_path("--output", output)
    with opened_ledger(settings) as ledger:
        lines = ledger.export_session(settings.tenant_id, session_id, with_sources=with_sources)
        if path is None:
            sys.stdout.flush()
            write_lines(lines, sys.stdout.buffer)
            return
        tally = write_whole(path, lambda out: write_lines(lines, out))
    sessions = f"{tally.sessions} sessions" if tally.sessions != 1 else "1 session"
    typer.echo(
        f"exported {tally.events} events ({sessions}, {tally.size} bytes) to {path}", err=True
    )


def import_session(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-",
            help="A bundle from `chatledger export` ('-' reads stdin).",
            show_default=False,
        ),
    ],
    new_id: Annotated[
        UUID | None,
        typer.Option(
            "--new-id",
            metavar="UUID",
            help="Store the bundle's session under this id instead.",
            show_default=False,
        ),
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Verify a bundle and store its events; importing it again stores nothing new."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    data = file_bytes("FILE", file)
    with opened_ledger(settings) as ledger:
        result = ledger.import_bundle(command_context(settings), data, new_id=new_id)
    emit(ImportedOut.of(result), as_json, render_imported)


def render_imported(out: ImportedOut) -> list[RenderableType]:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("session", out.session_id)
    table.add_row("imported", f"{out.imported} events")
    table.add_row("skipped", f"{out.skipped} events (already stored)")
    return [table]
