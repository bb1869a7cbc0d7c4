"""Fresh databases for one run: a SQLite file in a temporary directory, or a new
PostgreSQL database (with a `chatledger` schema) dropped when the run ends."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "chatledger"


@dataclass(frozen=True)
class Target:
    """Where one run writes: the backend, its URL for chatledger, and how to reach it raw."""

    backend: Literal["sqlite", "postgres"]
    url: str
    """A chatledger database URL (`sqlite:///PATH` or `postgresql://…?schema=…`)."""
    sqlite_path: Path | None = None
    postgres_dsn: str | None = None
    """A libpq URL for the fresh database, without the schema parameter."""
    schema: str = SCHEMA


@contextmanager
def fresh_sqlite(name: str) -> Iterator[Target]:
    with tempfile.TemporaryDirectory(prefix="chatledger-bench-") as directory:
        path = Path(directory) / f"{name}.db"
        yield Target("sqlite", f"sqlite:///{path}", sqlite_path=path)


def postgres_reachable(server_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(server_url, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip()


@contextmanager
def fresh_postgres(server_url: str, name: str) -> Iterator[Target]:
    """A new database on the server of `server_url`, with schema `chatledger`, dropped after."""
    database = f"chatledger_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    dsn = urlunsplit(urlsplit(server_url)._replace(path=f"/{database}", query=""))
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        yield Target("postgres", f"{dsn}?schema={SCHEMA}", postgres_dsn=dsn)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def target_for(url: str) -> Target:
    """The `Target` of an existing chatledger database URL (a test's database, say)."""
    from adapters.settings import parse_database_url

    db = parse_database_url(url)
    if db.backend == "sqlite":
        return Target("sqlite", url, sqlite_path=Path(db.sqlite_path))
    password = f":{db.password}" if db.password else ""
    dsn = f"postgresql://{db.user}{password}@{db.host}:{db.port}/{db.name}"
    return Target("postgres", url, postgres_dsn=dsn, schema=db.schema)


def analyze(target: Target) -> None:
    """Refresh PostgreSQL's planner statistics (autovacuum would, some time later)."""
    if target.postgres_dsn is not None:
        with psycopg.connect(target.postgres_dsn, autocommit=True) as conn:
            conn.execute("ANALYZE")


@contextmanager
def fresh(backend: str, name: str, *, postgres_url: str) -> Iterator[Target]:
    if backend == "sqlite":
        with fresh_sqlite(name) as target:
            yield target
    else:
        with fresh_postgres(postgres_url, name) as target:
            yield target
