"""How `chatledger chat` shows a streamed turn: the reply on stdout as it arrives (flushed,
ending with a newline), thinking, tools and the closing summary dim on stderr.

Colours appear only on a terminal; where stdout and stderr share one, notes
start on a line of their own, while a reply piped elsewhere is left as the
model wrote it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import typer

from adapters.chat_events import (
    ContentEvent,
    DoneEvent,
    ErrorEvent,
    ExecutionEvent,
    ThinkingEvent,
    ToolEndEvent,
    ToolStartEvent,
)
from adapters.cli.output import compact


def describe_failure(error: ErrorEvent) -> str:
    """The one line a failed turn ends with."""
    recorded = f"recorded as completion {error.completion_id}" if error.completion_id else ""
    return f"{error.message} ({'; '.join(part for part in (error.type, recorded) if part)})"


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class TurnDisplay:
    """Writes one turn: content deltas to stdout, flushed; notes dim on stderr."""

    show_thinking: bool = False
    hidden: bool = False
    """Set by a Ctrl-C: only the turn's outcome is still shown."""
    _reply_open: bool = False
    """Reply text was written and its last line not yet ended."""
    _thinking_open: bool = False

    def show(self, event: Any) -> None:
        match event:
            case DoneEvent():
                self.end_reply()
                self._summarise(event)
            case ErrorEvent():
                self.end_reply()
            case _ if self.hidden:
                pass
            case ContentEvent():
                self._end_thinking()
                typer.echo(event.content, nl=False)
                if event.content:
                    self._reply_open = not event.content.endswith("\n")
            case ThinkingEvent():
                if self.show_thinking:
                    self._note(event.content, nl=False)
                    self._thinking_open = True
            case ToolStartEvent():
                self._note(f"tool {event.name} {compact(event.arguments or {}, 100)}")
            case ToolEndEvent():
                failed = " (error)" if event.is_error else ""
                self._note(f"tool {event.name}{failed}: {compact(event.summary, 100)}")
            case ExecutionEvent():
                pass

    def hide(self) -> None:
        """Ctrl-C: end the lines in progress and say what happens to the turn."""
        self.end_reply()
        self.hidden = True
        self._note(
            "interrupted: the reply is hidden, the turn runs on and is recorded"
            " (Ctrl-C again to stop waiting)"
        )

    def end_reply(self) -> None:
        """End the reply's last line: after a reply, stdout ends with a newline."""
        self._end_thinking()
        if self._reply_open:
            typer.echo()
            self._reply_open = False

    def _summarise(self, done: DoneEvent) -> None:
        usage = done.token_usage
        parts = [
            f"{done.provider}/{done.model}",
            f"{usage.input_tokens} in / {usage.output_tokens} out tokens",
            f"{done.time:.2f} s",
            done.finish_reason or "no finish reason",
        ]
        if done.message_id is None:
            parts.append("not remembered")
        if done.replayed:
            parts.append("replayed (idempotency key)")
        self._note(" · ".join(parts))
        for suggestion in done.suggestions or []:
            self._note(f"suggestion: {suggestion}")
        for call in done.tool_calls:
            arguments = call.arguments if call.arguments is not None else call.arguments_raw
            self._note(f"tool call for you to answer: {call.name} {compact(arguments or {}, 100)}")

    def _end_thinking(self) -> None:
        if self._thinking_open:
            typer.echo(err=True)
            self._thinking_open = False

    def _note(self, text: str, *, nl: bool = True) -> None:
        """Dim text on stderr, on a line of its own where stdout and stderr share a terminal
        (a reply piped elsewhere is left as the model wrote it)."""
        if nl:
            self._end_thinking()
        if self._reply_open and _is_terminal(sys.stdout) and _is_terminal(sys.stderr):
            typer.echo()
            self._reply_open = False
        typer.secho(text, err=True, dim=True, nl=nl)
