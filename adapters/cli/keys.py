"""`chatledger keys create|list|revoke`: API keys, managed by the operator.

These commands work on the database directly (no key needed): `create` makes
a key of a tenant with a role and prints it once; `list` shows keys (of one
tenant, or of all); `revoke` revokes a key in whichever tenant holds it. The
configured actor (`--actor`, `$CHATLEDGER_ACTOR`) is recorded on the events.
`--json` prints what the admin endpoints answer (`IssuedKeyOut`, `KeyListOut`,
`KeyOut`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.table import Table

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.options import Actor, AsJson, DatabaseUrl, Tenant
from adapters.cli.output import emit, new_table, timestamp
from adapters.http.schemas_keys import IssuedKeyOut, KeyListOut, KeyOut
from domain.api_key import KeyRole

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

KeyId = Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id.", show_default=False)]


@app.command("create")
def create_key(
    role: Annotated[KeyRole, typer.Option(help="member, auditor or admin.", show_default=False)],
    name: Annotated[str, typer.Option(help="A label; requests record it as their actor.")] = "",
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a key of a tenant and print it (this once only)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        issued = ledger.create_api_key(command_context(settings), role=role, name=name)
    emit(IssuedKeyOut.issued(issued), as_json, render_issued)


@app.command("list")
def list_keys(
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's keys (default: every tenant's).")
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List keys, oldest first, revoked ones included (never a secret)."""
    settings = load_settings(database_url=database_url)
    with opened_ledger(settings) as ledger:
        keys = ledger.list_api_keys(tenant)
    emit(KeyListOut(data=[KeyOut.of(k) for k in keys]), as_json, lambda out: [keys_table(out.data)])


@app.command("revoke")
def revoke_key(
    key_id: KeyId,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    settings = load_settings(database_url=database_url, actor=actor)
    with opened_ledger(settings) as ledger:
        tenant_id = ledger.get_api_key(None, key_id).tenant_id
        ctx = command_context(settings).model_copy(update={"tenant_id": tenant_id})
        key = ledger.revoke_api_key(ctx, key_id)
    emit(KeyOut.of(key), as_json, lambda out: [keys_table([out])])


def keys_table(keys: Sequence[KeyOut]) -> Table:
    table = new_table("keys")
    for column in ("id", "tenant", "role", "name", "status", "created"):
        table.add_column(column, no_wrap=column in ("id", "created"))
    for key in keys:
        table.add_row(
            key.id,
            key.tenant_id,
            key.role,
            key.name,
            key.status,
            timestamp(key.created_at, seconds=True),
        )
    return table


def render_issued(issued: IssuedKeyOut) -> list[RenderableType]:
    return [
        keys_table([issued]),
        f"key: {issued.key}",
        "Store it now: it is shown this once and cannot be recovered.",
    ]
