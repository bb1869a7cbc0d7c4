"""`chatledger chat SESSION_ID [MESSAGE]`: talk to the session's model, streaming the reply.

With MESSAGE (or a message piped on stdin) the command runs one turn: the reply
streams to stdout as it arrives, and a one-line summary (model, tokens, time,
finish reason) follows on stderr. With neither, on a terminal, it is an
interactive chat: `you> ` prompts until `/exit` or Ctrl-D. `--json` shows
nothing while the turn runs and prints its result. A failed model call is
recorded (`Session.CompletionFailed`) and ends the command with one `error:`
line and exit 1; in the interactive chat the line is printed and the chat goes on.

Ctrl-C during a reply hides the rest of it, but the turn runs on in its own
task and is recorded when the model finishes: the command waits for that
(`turn_stream.py`). A second Ctrl-C cancels the turn (nothing is recorded for
it) and exits 130. This command is an entry point: it builds telemetry from
`OTEL_*`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from adapters.chat_events import DoneEvent, ErrorEvent
from adapters.cli.chat_display import TurnDisplay, describe_failure
from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.errors import CliInputError, TurnFailedError, explain, one_line
from adapters.cli.options import Actor, DatabaseUrl, SessionId, Tenant, text_file
from adapters.cli.otel import command_telemetry
from adapters.cli.output import print_json
from adapters.cli.turn_stream import follow
from adapters.ledger import Ledger
from adapters.ledger_chat import as_turn
from domain.context import CommandContext
from domain.errors import EngineError, SessionDeletedError
from domain.llm import ChatSettings
from domain.turns import TurnInput

PROMPT = "you> "
EXIT_COMMANDS = ("/exit", "/quit")


@dataclass(frozen=True)
class TurnOptions:
    """What each turn of the command asks for besides its message."""

    turn: dict[str, Any]
    """`TurnInput` fields: settings, provider, remember, recall."""
    suggestions: bool = False
    idempotency_key: str | None = None
    show_thinking: bool = False

    def input(self, text: str) -> TurnInput:
        return as_turn(text, **self.turn)


def stdin_is_terminal() -> bool:
    """Whether a person is typing (the interactive chat) rather than a pipe or file."""
    return sys.stdin.isatty()


def chat(
    session_id: SessionId,
    message: Annotated[
        str | None,
        typer.Argument(
            metavar="MESSAGE",
            help="What to say ('-' reads stdin). Without it: stdin when piped, else an"
            " interactive chat.",
            show_default=False,
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Provider for this turn (default: the agent's, else configured).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model for this turn.", show_default=False)
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Longest reply, in tokens.", show_default=False)
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(min=0, max=2, help="Sampling temperature.", show_default=False)
    ] = None,
    remember: Annotated[
        bool,
        typer.Option(
            "--remember/--no-remember",
            help="Keep the message and the reply in the history (the call is recorded either way).",
        ),
    ] = True,
    recall: Annotated[
        bool,
        typer.Option("--recall/--no-recall", help="Send the history, not only the new message."),
    ] = True,
    suggestions: Annotated[
        bool, typer.Option("--suggestions", help="Also ask for follow-up suggestions.")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            metavar="KEY",
            help="Run the turn once: a retry with the same KEY gets the recorded result.",
            show_default=False,
        ),
    ] = None,
    show_thinking: Annotated[
        bool, typer.Option("--show-thinking", help="Show the model's reasoning, dim, on stderr.")
    ] = False,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Stream nothing; print the turn's result as JSON."),
    ] = False,
) -> None:
    """Chat in a session: one turn with MESSAGE, else an interactive chat on a terminal.

    The reply streams to stdout; a summary (tokens, time, finish reason) follows on stderr.
    Ctrl-C during a reply hides the rest, but the turn still finishes and is recorded
    (Ctrl-C again cancels it, unrecorded). /exit or Ctrl-D ends an interactive chat.
    """
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    options = TurnOptions(
        turn={
            "settings": ChatSettings(model=model, max_tokens=max_tokens, temperature=temperature),
            "provider": provider,
            "remember": remember,
            "recall": recall,
        },
        suggestions=suggestions,
        idempotency_key=idempotency_key,
        show_thinking=show_thinking,
    )
    text = message_given(message)
    if text is None:
        for given, name in ((as_json, "--json"), (idempotency_key, "--idempotency-key")):
            if given:
                raise CliInputError(f"{name} needs a MESSAGE (or one piped on stdin)")
    with (
        command_telemetry(os.environ) as telemetry,
        opened_ledger(settings, telemetry=telemetry) as ledger,
    ):
        ctx = command_context(settings)
        if text is None:
            converse(ledger, ctx, session_id, options)
        elif as_json:
            result = ledger.chat(
                ctx,
                session_id,
                options.input(text),
                suggestions=suggestions,
                idempotency_key=idempotency_key,
            )
            print_json(result.model_dump(mode="json"))
        else:
            ended = stream_turn(ledger, ctx, session_id, text, options)
            if isinstance(ended, ErrorEvent):
                raise TurnFailedError(describe_failure(ended))


def message_given(message: str | None) -> str | None:
    """The turn's message: MESSAGE, or stdin when piped; None for the interactive chat."""
    if message is None and stdin_is_terminal():
        return None
    if message is None or message == "-":
        text = text_file("stdin", "-").rstrip("\r\n")
        if not text.strip():
            raise CliInputError(
                "no message: give MESSAGE, pipe one on stdin, or run on a terminal to chat"
            )
        return text
    if not message.strip():
        raise CliInputError("MESSAGE is empty")
    return message


def stream_turn(
    ledger: Ledger, ctx: CommandContext, session_id: str, text: str, options: TurnOptions
) -> DoneEvent | ErrorEvent | None:
    """Run one turn, showing it as it streams; its last event."""
    # What `Ledger.astream` does, keeping the turn's handle so a second Ctrl-C can cancel it.
    start = ledger.chat_service.start(
        ctx,
        session_id,
        options.input(text),
        idempotency_key=options.idempotency_key,
        suggestions=options.suggestions,
    )
    display = TurnDisplay(show_thinking=options.show_thinking)
    return follow(ledger.loop_thread().loop, start, display)


def converse(ledger: Ledger, ctx: CommandContext, session_id: str, options: TurnOptions) -> None:
    """The interactive chat: prompt, stream the reply, repeat until `/exit` or end of input."""
    session = ledger.get_session(ctx.tenant_id, session_id)
    if session.is_deleted:
        raise SessionDeletedError(session_id)
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    title = f"“{session.title}”" if session.title else str(session.id)
    typer.secho(f"chatting in {title}; /exit or Ctrl-D to leave", err=True, dim=True)
    while (text := prompt()) is not None:
        try:
            ended = stream_turn(ledger, ctx, session_id, text, options)
        except EngineError as error:
            ended = None
            typer.echo(f"error: {one_line(explain(error)[1])}", err=True)
        if isinstance(ended, ErrorEvent):
            typer.echo(f"error: {one_line(describe_failure(ended))}", err=True)


def prompt() -> str | None:
    """The next message typed, or None when the user leaves (`/exit`, Ctrl-D, Ctrl-C)."""
    while True:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            return None
        text = line.strip()
        if text in EXIT_COMMANDS:
            return None
        if text:
            return text
