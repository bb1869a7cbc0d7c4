"""Settings and the ledger for one command: built once, at the command's entry.

`load_settings` reads the environment (through `Settings`) and lays the
command's options on top; `opened_ledger` checks that the database answers,
opens the ledger and closes it when the command ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from pydantic import ValidationError

from adapters.bootstrap import open_ledger
from adapters.cli.errors import CliInputError, DatabaseUnreachableError
from adapters.ledger import Ledger
from adapters.settings import Database, Settings
from adapters.telemetry import Telemetry
from domain.context import CommandContext

CONNECT_TIMEOUT_SECONDS = 5
"""How long to wait for PostgreSQL before giving up (the event store's pool would wait 30 s)."""


def describe_validation(error: ValidationError) -> str:
    """A pydantic error as `field: problem; field: problem`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
        for item in error.errors()
    )


def load_settings(**options: Any) -> Settings:
    """Settings from the environment, with the options the user gave (not None) on top."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        settings = Settings(**given)
    except ValidationError as error:
        raise CliInputError(f"configuration: {describe_validation(error)}") from None
    settings.database()  # an unusable URL is a usage error, before any connection
    return settings


def command_context(settings: Settings) -> CommandContext:
    """Who a write is recorded for: the configured tenant and actor."""
    return CommandContext(tenant_id=settings.tenant_id, actor=settings.actor)


def redacted_url(settings: Settings) -> str:
    """The database URL without its password, for messages."""
    return settings.database().redacted()


def check_reachable(db: Database) -> None:
    """Fail fast, naming the cause, when PostgreSQL does not answer."""
    if db.backend != "postgres":
        return
    try:
        psycopg.connect(
            host=db.host,
            port=db.port,
            dbname=db.name,
            user=db.user,
            password=db.password or None,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ).close()
    except psycopg.Error as error:
        raise DatabaseUnreachableError(
            f"cannot connect to PostgreSQL at {db.host}:{db.port}/{db.name}: {error}"
        ) from None


@contextmanager
def opened_ledger(settings: Settings, *, telemetry: Telemetry | None = None) -> Iterator[Ledger]:
    """The ledger on the configured database, closed when the block ends; model calls are
    traced with `telemetry` when the command built one (`otel.py`)."""
    check_reachable(settings.database())
    ledger = open_ledger(settings, telemetry=telemetry)
    try:
        yield ledger
    finally:
        ledger.close()
