"""The CLI's process edge: every failure becomes one line on stderr and an exit code.

`ChatledgerGroup` wraps the invocation of every command, so commands raise and
never catch: usage, input and configuration problems exit 2 (a provider that
is unknown or lacks its key among them), a command that could not be carried
out (unknown session, version conflict, unreachable database, a failed model
call) exits 1, and nothing prints a traceback (it goes to the debug log).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from typer.core import TyperGroup

from adapters.master_key import MasterKeyError
from adapters.settings import DatabaseURLError
from domain.errors import (
    EngineError,
    InvalidInputError,
    LimitExceededError,
    ProviderNotConfiguredError,
)

log = logging.getLogger(__name__)

EXIT_FAILURE = 1
"""The command was understood but could not be carried out."""
EXIT_USAGE = 2
"""The command line or its input is wrong."""


class CliInputError(Exception):
    """A bad option value or combination, found by the CLI itself (exit 2)."""


class DatabaseUnreachableError(Exception):
    """The configured database does not answer (exit 1)."""


class TurnFailedError(Exception):
    """A streamed turn ended with an `error` event; the failure is recorded (exit 1)."""


def explain(error: Exception) -> tuple[int, str]:
    """The exit code and the one-line message for a failed command."""
    match error:
        case typer.TyperException():  # Typer's own: a usage error (exit 2) or a bad file
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            return error.exit_code, f"{error.format_message()}{hint}"
        case CliInputError() | DatabaseURLError() | MasterKeyError():
            return EXIT_USAGE, str(error)
        case InvalidInputError() | LimitExceededError() | ProviderNotConfiguredError():
            return EXIT_USAGE, error.detail
        case EngineError():
            return EXIT_FAILURE, error.detail
        case DatabaseUnreachableError() | TurnFailedError():
            return EXIT_FAILURE, str(error)
        case PersistenceError() | psycopg.Error() | sqlite3.Error():
            return EXIT_FAILURE, f"database: {error or type(error).__name__}"
        case OSError():
            return EXIT_FAILURE, str(error)
        case _:
            return EXIT_FAILURE, f"unexpected {type(error).__name__}: {error}"


def one_line(text: str) -> str:
    """`text` on one line (driver messages often span several)."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


class ChatledgerGroup(TyperGroup):
    """The root command group; its `invoke` is the CLI's only broad `except`."""

    def invoke(self, ctx: Any) -> Any:  # Typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise  # --help, Ctrl-C and a closed pipe (`| head`) behave as Typer intends
        except Exception as error:  # the process edge: report, never a traceback
            if type(error).__name__ == "NoArgsIsHelpError":
                raise  # a bare group prints its help (Typer tells it by name too)
            code, detail = explain(error)
            log.debug("command failed", exc_info=True)
            typer.echo(f"error: {one_line(detail) or type(error).__name__}", err=True)
            raise typer.Exit(code) from None
