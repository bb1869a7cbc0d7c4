"""What commands print: one JSON document with `--json`, readable rich tables otherwise.

Both are rendered from the HTTP API's output models (`adapters.http.schemas`),
so `--json` equals what the API answers. Times are RFC 3339 in UTC. User text
is never read as rich markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, assert_never

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from adapters.http.schemas import EventOut, MessageOut, PageOut, SessionOut, SessionSummaryOut
from domain.content import (
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
)
from domain.message import Message

M = TypeVar("M", bound=BaseModel)

PREVIEW_CHARS = 160
"""Longest text a table cell shows of a message, an event's data or a JSON object."""
PIPE_WIDTH = 1000
"""Width of tables written to a pipe or file: one row per line, for grep and cut."""


def console(*, stderr: bool = False) -> Console:
    """A console that prints text as typed (no markup) and wraps only on a terminal."""
    out = Console(stderr=stderr, markup=False, emoji=False, highlight=False)
    if not out.is_terminal:
        out.width = PIPE_WIDTH
    return out


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout."""
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def emit(model: M, as_json: bool, render: Callable[[M], Sequence[RenderableType]]) -> None:
    """Print `model` as JSON, or as the renderables `render` makes of it."""
    if as_json:
        print_json(model.model_dump(mode="json"))
        return
    out = console()
    for renderable in render(model):
        out.print(renderable)


def timestamp(moment: datetime, *, seconds: bool = False) -> str:
    """RFC 3339 in UTC: to the microsecond (exact enough to paste into `show --at`),
    or to the second for lists meant for scanning."""
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds" if seconds else "auto").replace("+00:00", "Z")


def compact(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """Text, or a value as JSON, cut to `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def block_text(block: ContentBlock) -> str:
    """A content block as one short line of text."""
    match block:
        case TextBlock():
            return block.text
        case ThinkingBlock():
            return f"[thinking] {block.text}"
        case ImageBlock():
            return f"[image {block.source.kind}]"
        case DocumentBlock():
            return f"[document {block.title or block.media_type}]"
        case ToolCallBlock():
            arguments = block.arguments if block.arguments is not None else block.arguments_raw
            return f"[tool call {block.name} {compact(arguments or {})}]"
        case ToolResultBlock():
            parts = " ".join(block_text(part) for part in block.content)
            return f"[tool result {block.tool_call_id}{' error' if block.is_error else ''}] {parts}"
        case _:
            assert_never(block)


def new_table(title: str) -> Table:
    """The one table style: a header rule, no vertical borders (narrow terminals)."""
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def session_table(session: SessionOut) -> Table:
    """One session as field/value rows."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = {
        "id": session.id,
        "title": session.title,
        "status": session.status,
        "version": str(session.version),
        "user": session.user_id or "",
        "agent": session.agent_id or "",
        "situation": session.situation,
        "render templates": "yes" if session.render_templates else "no",
        "metadata": compact(session.metadata),
        "context": compact(session.context),
        "messages": str(session.message_count),
        "created": timestamp(session.created_at),
        "updated": timestamp(session.updated_at),
    }
    for field, value in rows.items():
        table.add_row(field, value)
    return table


def render_session(session: SessionOut) -> list[RenderableType]:
    renderables: list[RenderableType] = [session_table(session)]
    if session.messages is not None:
        renderables.append(messages_table(session.messages))
    return renderables


def messages_table(messages: Sequence[MessageOut]) -> Table:
    table = new_table("messages")
    table.add_column("version", justify="right")
    table.add_column("role")
    table.add_column("content", overflow="fold")
    table.add_column("created", no_wrap=True)
    for message in messages:
        text = " ".join(block_text(block) for block in message.content)
        table.add_row(
            str(message.version), message.role, compact(text), timestamp(message.created_at)
        )
    return table


def sessions_table(sessions: Sequence[SessionSummaryOut]) -> Table:
    """The list, narrow enough for 80 columns: user, agent and status only when they say
    something (a user or agent is set, a session is deleted)."""
    columns: dict[str, Callable[[SessionSummaryOut], str]] = {
        "id": lambda s: s.id,
        "title": lambda s: s.title,
        "user": lambda s: s.user_id or "",
        "agent": lambda s: s.agent_id or "",
        "msgs": lambda s: str(s.message_count),
        "ver": lambda s: str(s.version),
        "status": lambda s: s.status,
        "updated": lambda s: timestamp(s.updated_at, seconds=True),
    }
    unremarkable = {"user": "", "agent": "", "status": "active"}
    shown = {
        name: cell
        for name, cell in columns.items()
        if name not in unremarkable or any(cell(s) != unremarkable[name] for s in sessions)
    }
    table = new_table("sessions")
    for name in shown:
        if name in ("id", "updated"):
            table.add_column(name, no_wrap=True)
        elif name in ("msgs", "ver"):
            table.add_column(name, justify="right")
        else:
            table.add_column(name, overflow="fold", min_width=8 if name == "title" else None)
    for s in sessions:
        table.add_row(*(cell(s) for cell in shown.values()))
    return table


def events_table(events: Sequence[EventOut]) -> Table:
    table = new_table("events")
    table.add_column("version", justify="right")
    table.add_column("type", no_wrap=True)
    table.add_column("timestamp", no_wrap=True)
    table.add_column("actor")
    table.add_column("data", overflow="fold")
    for event in events:
        table.add_row(
            str(event.version),
            event.type.removeprefix("Session."),
            timestamp(event.timestamp),
            event.actor,
            event_summary(event),
        )
    return table


def event_summary(event: EventOut) -> str:
    """An event's own data in short: a message as `role: text`, else its non-null fields."""
    data = {key: value for key, value in event.data.items() if value is not None}
    if isinstance(data.get("message"), dict):
        message = Message.model_validate(data.pop("message"))
        text = " ".join(block_text(block) for block in message.content)
        return compact(f"{message.role}: {text}" + (f" {compact(data)}" if data else ""))
    return compact(data)


def render_page(table: Callable[[list[M]], Table]) -> Callable[[PageOut[M]], list[RenderableType]]:
    """Render a page as its table and, when there is more, the cursor that continues it."""

    def render(page: PageOut[M]) -> list[RenderableType]:
        renderables: list[RenderableType] = [table(page.data)]
        if page.next_cursor is not None:
            renderables.append(f"more: --cursor {page.next_cursor}")
        return renderables

    return render
