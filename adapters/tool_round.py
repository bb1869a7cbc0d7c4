"""One tool round of a turn: run the reply's tool calls, then prepare the next call.

When a model's reply calls tools that are all registered (`ToolBox.can_run`),
the turn loop runs them in order, each in its own `execute_tool` span and
framed by `tool_start`/`tool_end` events, and sends the model its request
again with the assistant's reply and one `tool` message of results appended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from opentelemetry.trace import Status, StatusCode, Tracer

from adapters.chat_events import ToolEndEvent, ToolStartEvent
from adapters.tools import ToolBox, summary_of
from domain.llm import ChatReply
from domain.message import Message
from domain.turns import PreparedTurn


async def run_tool_round(
    toolbox: ToolBox,
    tracer: Tracer,
    emit: Callable[[Any], None],
    prepared: PreparedTurn,
    reply: ChatReply,
    message_id: str,
) -> PreparedTurn:
    """Run the reply's tool calls and prepare the next call with their results."""
    results = []
    for call in reply.tool_calls:
        emit(ToolStartEvent(id=call.id, name=call.name, arguments=call.arguments))
        with tracer.start_as_current_span(f"execute_tool {call.name}") as tool_span:
            tool_span.set_attribute("gen_ai.operation.name", "execute_tool")
            tool_span.set_attribute("gen_ai.tool.name", call.name)
            tool_span.set_attribute("gen_ai.tool.call.id", call.id)
            result = await toolbox.run(call)
            if result.is_error:
                tool_span.set_status(Status(StatusCode.ERROR))
        emit(
            ToolEndEvent(
                id=call.id, name=call.name, summary=summary_of(result), is_error=result.is_error
            )
        )
        results.append(result)
    assistant = reply.message().model_copy(update={"id": message_id})
    tool_id = uuid4().hex
    tool_message = Message(role="tool", content=list(results), id=tool_id)
    messages = [*prepared.request.messages, assistant, tool_message]
    return PreparedTurn(
        provider=prepared.provider,
        request=prepared.request.model_copy(update={"messages": messages}),
        manifest=prepared.manifest.model_copy(
            update={
                "message_ids": [*prepared.manifest.message_ids, message_id, tool_id],
                "input_message_ids": [tool_id] if prepared.remember else [],
            }
        ),
        input_messages=[tool_message],
        agent_id=prepared.agent_id,
        remember=prepared.remember,
    )
