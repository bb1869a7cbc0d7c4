"""Python callables the turn loop may run when a model calls a tool.

Register a function (sync or async) under a tool name, with or without an
explicit definition; without one, the definition is derived from the
signature (parameters typed with pydantic-compatible annotations). A tool's
result becomes a `tool_result` block; an exception becomes an error result the
model sees (`is_error`), never a failed turn.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from domain.content import TextBlock, ToolCallBlock, ToolResultBlock
from domain.llm import ToolDefinition

SUMMARY_CHARS = 120


@dataclass(frozen=True)
class RegisteredTool:
    definition: ToolDefinition
    function: Callable[..., Any]


def definition_of(function: Callable[..., Any], *, name: str | None = None) -> ToolDefinition:
    """A tool definition from a function's name, docstring and annotated parameters."""
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        annotation = (
            Any if parameter.annotation is inspect.Parameter.empty else parameter.annotation
        )
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    arguments_model: type[BaseModel] = create_model(f"{function.__name__}_arguments", **fields)
    schema: dict[str, Any] = arguments_model.model_json_schema()
    schema.pop("title", None)
    return ToolDefinition(
        name=name or function.__name__,
        description=inspect.getdoc(function) or "",
        parameters=schema,
    )


class ToolBox:
    """The registered tools, by name."""

    def __init__(self) -> None:
        self.tools: dict[str, RegisteredTool] = {}

    def register(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        definition: ToolDefinition | None = None,
    ) -> ToolDefinition:
        definition = definition or definition_of(function, name=name)
        self.tools[definition.name] = RegisteredTool(definition, function)
        return definition

    def definitions(self) -> list[ToolDefinition]:
        return [tool.definition for tool in self.tools.values()]

    def can_run(self, calls: list[ToolCallBlock]) -> bool:
        return bool(calls) and all(call.name in self.tools for call in calls)

    async def run(self, call: ToolCallBlock) -> ToolResultBlock:
        """Run one call; its result (or its error) as a `tool_result` block."""
        tool = self.tools[call.name]
        try:
            arguments = call.arguments
            if arguments is None:
                raise ValueError(f"arguments are not a JSON object: {call.arguments_raw!r}")
            if inspect.iscoroutinefunction(tool.function):
                result = await tool.function(**arguments)
            else:
                result = await anyio.to_thread.run_sync(lambda: tool.function(**arguments))
            text = result if isinstance(result, str) else _json(result)
            is_error = False
        except Exception as error:  # a tool's failure is reported to the model
            text = f"{type(error).__name__}: {error}"
            is_error = True
        return ToolResultBlock(
            tool_call_id=call.id, name=call.name, content=[TextBlock(text=text)], is_error=is_error
        )


def summary_of(result: ToolResultBlock) -> str:
    text = "".join(b.text for b in result.content if isinstance(b, TextBlock))
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "\u2026"


def _json(value: Any) -> str:
    try:
        return TypeAdapter(Any).dump_json(value).decode()
    except (ValidationError, TypeError, ValueError):
        return json.dumps(str(value))
