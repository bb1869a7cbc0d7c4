"""The `postgres_url` fixture hands each test its own schema in a per-session database."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql


@pytest.mark.postgres
def test_each_postgres_test_gets_an_isolated_schema(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    schema = parse_qs(parts.query)["schema"][0]
    connection_url = urlunsplit(parts._replace(query=""))

    with psycopg.connect(connection_url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE ledger_probe (id integer PRIMARY KEY)")
        conn.execute("INSERT INTO ledger_probe VALUES (1)")

        in_schema = conn.execute(
            "SELECT to_regclass(%s)::text", [f"{schema}.ledger_probe"]
        ).fetchone()
        in_public = conn.execute("SELECT to_regclass('public.ledger_probe')::text").fetchone()
        database = conn.execute("SELECT current_database()").fetchone()

    assert in_schema is not None and in_schema[0] is not None
    assert in_public == (None,)
    assert database is not None and database[0].startswith("chatledger_test_")
