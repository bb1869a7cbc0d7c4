"""`chatledger verify|digest`: is the event log as it was recorded?

`verify` recomputes the hash chain of every stream (all tenants, or `--tenant`)
and exits 0 when intact, 1 when anything was tampered with, printing a one-line
verdict that names the first bad tenant, stream and version. With `--digest
FILE` (from `chatledger digest`) it also finds streams truncated, deleted or
rewritten since; the digest is checked against this database's signing key, or
the PEM `--public-key FILE`. `digest` prints (or writes to `--out FILE`) the
signed digest; `digest --public-key` prints the key that checks it.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import RenderableType

from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.errors import EXIT_FAILURE, CliInputError
from adapters.cli.files import writable_path, write_text
from adapters.cli.options import AsJson, DatabaseUrl, file_bytes
from adapters.cli.output import console, emit, print_json
from adapters.http.schemas_integrity import VerifyOut

ScopeTenant = Annotated[
    str | None,
    typer.Option(
        "--tenant", help="Only this tenant's streams (default: all tenants).", show_default=False
    ),
]


def render_verdict(out: VerifyOut) -> list[RenderableType]:
    lines: list[RenderableType] = [out.verdict]
    if out.failed_streams > 1:
        lines += [
            f"  tenant {f.tenant_id or '?'}, stream {f.stream_id}, version "
            f"{'?' if f.version is None else f.version}: {f.reason}"
            for f in out.failures
        ]
    lines.append(
        f"checked {out.streams} streams, {out.events} events in {out.seconds:.3f} s"
        f" ({out.events_per_second:.0f} events/s)"
    )
    return lines


def verify(
    tenant: ScopeTenant = None,
    digest: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Also check against this digest (`chatledger digest`).",
            show_default=False,
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="Check the digest's signature with this PEM key (default: this database's).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Verify the hash chain of every stream; exit 1 if anything was tampered with."""
    if public_key is not None and digest is None:
        raise CliInputError("--public-key: give --digest FILE too")
    document = None if digest is None else file_bytes("--digest", digest)
    key = None if public_key is None else file_bytes("--public-key", public_key)
    settings = load_settings(database_url=database_url)
    with opened_ledger(settings) as ledger:
        report = ledger.verify(tenant_id=tenant, digest=document, public_key=key)
    emit(VerifyOut.of(report), as_json, render_verdict)
    if not report.intact:
        raise typer.Exit(EXIT_FAILURE)


def digest(
    tenant: ScopeTenant = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Write it here (default: stdout).",
            show_default=False,
        ),
    ] = None,
    public_key: Annotated[
        bool, typer.Option("--public-key", help="Print the PEM key that checks digests instead.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a signed digest of every stream's head and count (refused if verify fails)."""
    path = None if out is None else writable_path("--out", out)
    settings = load_settings(database_url=database_url)
    with opened_ledger(settings) as ledger:
        if public_key:
            typer.echo(ledger.signing_key().public_pem(), nl=False)
            return
        document = ledger.digest(tenant_id=tenant)
        key_id = ledger.signing_key().key_id
    if path is None:
        print_json(document)
        return
    write_text(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    console(stderr=True).print(
        f"signed digest of {len(document['streams'])} streams to {path} (key {key_id})"
    )
