"""Options shared by the commands, and the parsers for values typed on the command line.

Defaults left as `None` mean "as configured": `Settings` reads the environment
(`CHATLEDGER_DATABASE_URL`, `CHATLEDGER_TENANT_ID`, …), so no option reads it here.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from adapters.cli.errors import CliInputError
from domain.validation import check_object

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
        " (default: $CHATLEDGER_DATABASE_URL, else sqlite:///chatledger.db)",
        show_default=False,
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print one JSON document (the HTTP API's shapes).")
]
Tenant = Annotated[
    str | None,
    typer.Option(help="Tenant (default: $CHATLEDGER_TENANT_ID, else local)", show_default=False),
]
Actor = Annotated[
    str | None,
    typer.Option(
        help="Who the events record as the actor (default: $CHATLEDGER_ACTOR, else local)",
        show_default=False,
    ),
]
SessionId = Annotated[str, typer.Argument(metavar="ID", help="Session id.", show_default=False)]
ExpectedVersion = Annotated[
    int | None,
    typer.Option(
        "--expected-version",
        metavar="N",
        help="Refuse (exit 1) unless the session is at version N.",
        show_default=False,
    ),
]
Limit = Annotated[int, typer.Option(help="Page size (1–1000).")]
Cursor = Annotated[
    str | None,
    typer.Option(help="Continue after the page that printed this cursor.", show_default=False),
]
Offset = Annotated[
    int | None,
    typer.Option(help="Skip this many items (instead of --cursor).", show_default=False),
]
Order = Annotated[Literal["asc", "desc"], typer.Option(help="Sort order.")]
JsonObjectText = Annotated[
    str | None, typer.Option(metavar="JSON", help="A JSON object.", show_default=False)
]
JsonMessage = Annotated[
    str | None,
    typer.Option(
        "--json-message",
        metavar="JSON",
        help='One message object, or {"messages": [...]} for several, stored atomically.',
        show_default=False,
    ),
]
MessagesFile = Annotated[
    str | None,
    typer.Option(
        "--file",
        metavar="FILE",
        help="Read the JSON of --json-message from FILE ('-' for stdin).",
        show_default=False,
    ),
]


def json_value(option: str, text: str) -> Any:
    """The JSON value given to `option`, or a usage error naming it."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise CliInputError(f"{option}: not valid JSON ({error})") from None


def json_object(option: str, text: str | None) -> dict[str, Any] | None:
    """The JSON object given to `option` (None when the option was not given)."""
    if text is None:
        return None
    return check_object(json_value(option, text), option)


def rfc3339(option: str, text: str) -> datetime:
    """An RFC 3339 time with its UTC offset, e.g. 2025-05-01T12:00:00Z."""
    try:
        moment = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise CliInputError(
            f"{option}: expected an RFC 3339 time such as 2025-05-01T12:00:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise CliInputError(f"{option}: {text!r} needs a UTC offset (Z or +HH:MM)")
    return moment


def file_bytes(option: str, name: str) -> bytes:
    """The bytes of file `name` given to `option` (`-` reads stdin)."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise CliInputError(f"{option}: cannot read {name}: {error.strerror or error}") from None


def text_file(option: str, name: str) -> str:
    """The UTF-8 text of file `name` given to `option` (`-` reads stdin)."""
    try:
        return file_bytes(option, name).decode("utf-8")
    except UnicodeDecodeError as error:
        raise CliInputError(f"{option}: cannot read {name}: {error}") from None
