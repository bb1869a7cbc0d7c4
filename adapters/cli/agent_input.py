"""What the agent commands take: their options, and the agent fields those give.

The options are read into the HTTP API's own inputs (`AgentIn` for create,
`AgentPatch` for update), so the CLI accepts exactly what the API accepts; a
value they refuse is a usage error naming the option.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from adapters.cli.errors import CliInputError
from adapters.cli.options import json_object, json_value, text_file
from adapters.http.schemas_agents import AgentIn, AgentPatch
from domain.agent import AgentFields, ContextPolicy

AgentId = Annotated[str, typer.Argument(metavar="ID", help="Agent id.", show_default=False)]
Name = Annotated[str | None, typer.Option(help="A name to know it by.", show_default=False)]
Provider = Annotated[
    str | None,
    typer.Option(
        help="openai, anthropic, gemini, an OpenAI-compatible server (vllm, ollama, llama_cpp),"
        " offline or scripted; unset (or '' on update): the configured default.",
        show_default=False,
    ),
]
Model = Annotated[
    str | None,
    typer.Option(help="Unset (or '' on update): the provider's default model.", show_default=False),
]
Instructions = Annotated[
    str | None,
    typer.Option(
        help="System instructions (a template when the session renders templates).",
        show_default=False,
    ),
]
InstructionsFile = Annotated[
    str | None,
    typer.Option(
        "--instructions-file",
        metavar="FILE",
        help="Read --instructions from FILE ('-' for stdin).",
        show_default=False,
    ),
]
SettingsJson = Annotated[
    str | None,
    typer.Option(
        "--settings",
        metavar="JSON",
        help='Default call settings, e.g. {"temperature": 0.2, "max_tokens": 512}.',
        show_default=False,
    ),
]
ToolsJson = Annotated[
    str | None,
    typer.Option(
        "--tools",
        metavar="JSON",
        help='A JSON list of tools: [{"name": …, "description": …, "parameters": {…}}].',
        show_default=False,
    ),
]
ToolsFile = Annotated[
    str | None,
    typer.Option(
        "--tools-file",
        metavar="FILE",
        help="Read --tools from FILE ('-' for stdin).",
        show_default=False,
    ),
]
ContextLimit = Annotated[
    int | None,
    typer.Option(
        metavar="TOKENS",
        help="Tokens a prompt may take (estimated); past it, --context-policy applies.",
        show_default=False,
    ),
]
Policy = Annotated[
    ContextPolicy | None,
    typer.Option(
        help="Past the limit: drop the oldest messages, or summarise them once.",
        show_default=False,
    ),
]


def one_of(option: str, text: str | None, file_option: str, file: str | None) -> str | None:
    """The value of `option`, given inline or read from the file of `file_option`."""
    if text is not None and file is not None:
        raise CliInputError(f"give {option} or {file_option}, not both")
    return text_file(file_option, file) if file is not None else text


def given_options(
    *,
    name: str | None,
    provider: str | None,
    model: str | None,
    instructions: str | None,
    instructions_file: str | None,
    settings: str | None,
    tools: str | None,
    tools_file: str | None,
    metadata: str | None,
    context_limit: int | None,
    context_policy: ContextPolicy | None,
) -> dict[str, Any]:
    """The agent fields whose options were given, JSON parsed (not yet validated)."""
    tools_text = one_of("--tools", tools, "--tools-file", tools_file)
    values: dict[str, Any] = {
        "name": name,
        "provider": provider,
        "model": model,
        "instructions": one_of(
            "--instructions", instructions, "--instructions-file", instructions_file
        ),
        "settings": None if settings is None else json_value("--settings", settings),
        "tools": None if tools_text is None else json_value("--tools", tools_text),
        "metadata": json_object("--metadata", metadata),
        "context_limit": context_limit,
        "context_policy": context_policy,
    }
    return {field: value for field, value in values.items() if value is not None}


def new_agent(given: dict[str, Any]) -> AgentFields:
    """The fields of a new agent, as `POST /v1/agents` takes them."""
    try:
        return AgentIn.model_validate(given).to_fields()
    except ValidationError as error:
        raise invalid_options(error) from None


def agent_changes(given: dict[str, Any]) -> AgentFields:
    """The changes, as `PATCH /v1/agents/{id}` takes them: each field given replaces."""
    if not given:
        raise CliInputError(
            "nothing to update: give --name, --provider, --model, --instructions, --settings,"
            " --tools, --metadata, --context-limit or --context-policy"
        )
    try:
        return AgentPatch.model_validate(given).to_fields()
    except ValidationError as error:
        raise invalid_options(error) from None


def invalid_options(error: ValidationError) -> CliInputError:
    """A validation error of agent fields, in the options' names: `--settings temperature: …`."""
    problems = []
    for item in error.errors():
        field, *inside = [str(part) for part in item["loc"]] or ["input"]
        where = f"--{field.replace('_', '-')}" + (f" {'.'.join(inside)}" if inside else "")
        problems.append(f"{where}: {item['msg']}")
    return CliInputError("; ".join(problems))
