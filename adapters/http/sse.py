"""A streamed turn as Server-Sent Events, and the OpenAPI description of those events.

Each event of a turn becomes one frame, `event: <name>` then `data: <json>`
and a blank line. The data is the event's JSON exactly as its model in
`adapters.chat_events` dumps it, `event` included (it repeats the frame's
name, so a client reading only `data` lines can still tell events apart).
A stream always ends with exactly one `done` or `error` frame: if the turn's
task dies without saying so, an `error` frame says it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, TypeAdapter

from adapters.chat import TurnHandle
from adapters.chat_events import ChatEvent, DoneEvent, ErrorEvent
from domain.errors import EngineError, ProviderError

log = logging.getLogger(__name__)

SSE_MEDIA_TYPE = "text/event-stream"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

EVENTS = {
    "execution": "First, always: `execution_id`, `session_id`, `user_message_id`, `trace_id`.",
    "thinking": "A delta of the model's reasoning text: `content`.",
    "tool_start": "A registered tool is about to run: `id`, `name`, `arguments`.",
    "tool_end": "A tool finished: `id`, `name`, `summary` (a short display string), `is_error`.",
    "content": "A delta of the assistant's answer: `content`. The deltas concatenate to "
    "`done.output`.",
    "done": "Last, on success: the whole `TurnResult` (`output`, `token_usage`, `time`, "
    "`finish_reason`, `tool_calls` left for the client, `message_id`, `version` …).",
    "error": "Last, on failure: `message`, `type`, `completion_id`. The session records "
    "`Session.CompletionFailed` with `partial` equal to the `content` already sent.",
}

STREAM_DESCRIPTION = (
    "With `stream: true` (or `Accept: text/event-stream`), the turn streams as Server-Sent "
    "Events: frames `event: <name>` / `data: <json>`, where the data is the event object "
    "below, its `event` field included. `execution` comes first, then any `thinking`, "
    "`tool_start`, `tool_end` and `content` frames, then exactly one `done` or `error`. "
    "Refusals (404, 410, 422 …) are still `application/problem+json`, before any event. "
    "A client that disconnects does not stop the turn: it finishes and is recorded.\n\n"
    + "\n".join(f"- `{name}`: {text}" for name, text in EVENTS.items())
)


class _Ended:
    """Put on a turn's queue when its task is over, after any event the task put there."""


def sse_frame(event: BaseModel) -> bytes:
    """One SSE frame: `event: <name>`, the event's JSON as `data`, and a blank line."""
    data = json.dumps(event.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    return f"event: {event.event}\ndata: {data}\n\n".encode()  # type: ignore[attr-defined]


async def turn_frames(handle: TurnHandle) -> AsyncIterator[bytes]:
    """The turn's events as SSE frames, ending with exactly one `done` or `error`."""
    assert handle.task is not None
    task = handle.task
    task.add_done_callback(lambda _: handle.queue.put_nowait(_Ended()))
    async for event in handle.events():
        if isinstance(event, _Ended):
            yield sse_frame(_unexpected_end(task))
            return
        yield sse_frame(event)
        if isinstance(event, DoneEvent | ErrorEvent):
            return


def _unexpected_end(task: Any) -> ErrorEvent:
    """The `error` event of a turn whose task ended without a `done` or `error` event."""
    error = None if task.cancelled() else task.exception()
    log.error("a turn ended without a done or error event", exc_info=error)
    if isinstance(error, ProviderError):
        return ErrorEvent(message=error.detail, type=error.error_type)
    if isinstance(error, EngineError):
        return ErrorEvent(message=error.detail, type=type(error).__name__)
    return ErrorEvent(message="the turn failed unexpectedly", type="internal_error")


_EVENTS = TypeAdapter(ChatEvent)


def event_stream_content() -> dict[str, Any]:
    """The `text/event-stream` entry of the chat route's 200 response."""
    schema = _EVENTS.json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema["description"] = STREAM_DESCRIPTION
    return {SSE_MEDIA_TYPE: {"schema": schema}}


def add_event_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the event models the `text/event-stream` schema refers to, to `components`."""
    schema = _EVENTS.json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in schema.get("$defs", {}).items():
        components.setdefault(name, definition)
    return openapi
