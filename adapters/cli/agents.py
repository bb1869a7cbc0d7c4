"""`chatledger agents create|list|show|update|delete`: the provider, model, instructions,
default settings and tools that sessions bound to an agent chat with.

Options are read like the HTTP API's bodies (`POST` for create, `PATCH` for
update: each field given replaces the agent's, `settings` and `tools` as wholes),
and `--json` prints what the API answers (`AgentOut`, or a page of
`AgentSummaryOut`); tables otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.table import Table

from adapters.cli.agent_input import (
    AgentId,
    ContextLimit,
    Instructions,
    InstructionsFile,
    Model,
    Name,
    Policy,
    Provider,
    SettingsJson,
    ToolsFile,
    ToolsJson,
    agent_changes,
    given_options,
    new_agent,
)
from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.options import (
    Actor,
    AsJson,
    Cursor,
    DatabaseUrl,
    JsonObjectText,
    Limit,
    Offset,
    Order,
    Tenant,
)
from adapters.cli.output import compact, emit, new_table, render_page, timestamp
from adapters.http.schemas import PageOut, page_of
from adapters.http.schemas_agents import AgentOut, AgentSummaryOut
from projections.agent_list import AgentQuery

app = typer.Typer(
    help="Create, list, show, update and delete agents (provider, model, instructions).",
    no_args_is_help=True,
)


@app.command("create")
def create_agent(
    name: Annotated[str, typer.Option(help="A name to know it by.", show_default=False)],
    provider: Provider = None,
    model: Model = None,
    instructions: Instructions = None,
    instructions_file: InstructionsFile = None,
    settings_json: SettingsJson = None,
    tools: ToolsJson = None,
    tools_file: ToolsFile = None,
    metadata: JsonObjectText = None,
    context_limit: ContextLimit = None,
    context_policy: Policy = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create an agent."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    fields = new_agent(
        given_options(
            name=name,
            provider=provider,
            model=model,
            instructions=instructions,
            instructions_file=instructions_file,
            settings=settings_json,
            tools=tools,
            tools_file=tools_file,
            metadata=metadata,
            context_limit=context_limit,
            context_policy=context_policy,
        )
    )
    with opened_ledger(settings) as ledger:
        agent = ledger.create_agent(command_context(settings), fields)
    emit(AgentOut.of(agent), as_json, render_agent)


@app.command("list")
def list_agents(
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = None,
    order: Order = "desc",
    include_deleted: Annotated[bool, typer.Option("--include-deleted")] = False,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List agents, most recently updated first."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    query = AgentQuery(
        tenant_id=settings.tenant_id,
        limit=limit,
        cursor=cursor,
        offset=offset,
        order=order,
        include_deleted=include_deleted,
    )
    with opened_ledger(settings) as ledger:
        page = ledger.list_agents(query)
    out = PageOut[AgentSummaryOut](**page_of(page, AgentSummaryOut.of))
    emit(out, as_json, render_page(agents_table))


@app.command("show")
def show_agent(
    agent_id: AgentId,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show one agent."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        agent = ledger.get_agent(settings.tenant_id, agent_id)
    emit(AgentOut.of(agent), as_json, render_agent)


@app.command("update")
def update_agent(
    agent_id: AgentId,
    name: Name = None,
    provider: Provider = None,
    model: Model = None,
    instructions: Instructions = None,
    instructions_file: InstructionsFile = None,
    settings_json: SettingsJson = None,
    tools: ToolsJson = None,
    tools_file: ToolsFile = None,
    metadata: JsonObjectText = None,
    context_limit: ContextLimit = None,
    context_policy: Policy = None,
    expected_version: Annotated[
        int | None,
        typer.Option(
            "--expected-version",
            metavar="N",
            help="Refuse (exit 1) unless the agent is at version N.",
            show_default=False,
        ),
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Change an agent: each field given replaces the agent's (settings and tools as wholes)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    changes = agent_changes(
        given_options(
            name=name,
            provider=provider,
            model=model,
            instructions=instructions,
            instructions_file=instructions_file,
            settings=settings_json,
            tools=tools,
            tools_file=tools_file,
            metadata=metadata,
            context_limit=context_limit,
            context_policy=context_policy,
        )
    )
    with opened_ledger(settings) as ledger:
        agent = ledger.update_agent(
            command_context(settings), agent_id, changes, expected_version=expected_version
        )
    emit(AgentOut.of(agent), as_json, render_agent)


@app.command("delete")
def delete_agent(
    agent_id: AgentId,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Delete an agent (soft: it stays in the log; its sessions can no longer chat)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        agent = ledger.delete_agent(command_context(settings), agent_id)
    emit(AgentOut.of(agent), as_json, render_agent)


def render_agent(agent: AgentOut) -> list[RenderableType]:
    """One agent as field/value rows."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    limit = "none" if agent.context_limit is None else f"{agent.context_limit} tokens"
    rows = {
        "id": agent.id,
        "name": agent.name,
        "status": agent.status,
        "version": str(agent.version),
        "provider": agent.provider or "(default)",
        "model": agent.model or "(default)",
        "instructions": compact(agent.instructions),
        "settings": compact(agent.settings.model_dump(mode="json", exclude_none=True)),
        "tools": ", ".join(tool.name for tool in agent.tools),
        "metadata": compact(agent.metadata),
        "context": f"{limit}, {agent.context_policy}",
        "created": timestamp(agent.created_at),
        "updated": timestamp(agent.updated_at),
    }
    for field, value in rows.items():
        table.add_row(field, value)
    return [table]


def agents_table(agents: list[AgentSummaryOut]) -> Table:
    """The list; the status column only when a deleted agent is listed."""
    columns: dict[str, Callable[[AgentSummaryOut], str]] = {
        "id": lambda a: a.id,
        "name": lambda a: a.name,
        "provider": lambda a: a.provider or "",
        "model": lambda a: a.model or "",
        "ver": lambda a: str(a.version),
        "status": lambda a: a.status,
        "updated": lambda a: timestamp(a.updated_at, seconds=True),
    }
    if all(a.status == "active" for a in agents):
        del columns["status"]
    table = new_table("agents")
    for name in columns:
        if name in ("id", "updated"):
            table.add_column(name, no_wrap=True)
        elif name == "ver":
            table.add_column(name, justify="right")
        else:
            table.add_column(name, overflow="fold")
    for agent in agents:
        table.add_row(*(cell(agent) for cell in columns.values()))
    return table
