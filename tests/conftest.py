"""Fixtures shared by every test layer: database URLs per backend, the network guard and
the fake model provider.

PostgreSQL comes from CHATLEDGER_TEST_POSTGRES_URL; tests that need it carry the `postgres`
marker and are skipped when it is unreachable, except under CI=true, where they fail.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.support.fake_provider import FakeProvider

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a fresh database created for this test session, dropped at its end."""
    url = os.environ.get("CHATLEDGER_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        admin = psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.Error as error:
        message = f"PostgreSQL is not reachable at {url} (CHATLEDGER_TEST_POSTGRES_URL): {error}"
        if _running_in_ci():
            pytest.fail(f"{message}; postgres tests are mandatory when CI=true", pytrace=False)
        pytest.skip(message)

    database = f"chatledger_test_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        yield _with_database(url, database)
    finally:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """URL of the session database with a fresh `schema` query parameter for this test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in postgres_server_url else "?"
    try:
        yield f"{postgres_server_url}{separator}schema={schema}"
    finally:
        try:
            with psycopg.connect(postgres_server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
        except psycopg.Error:
            pass


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file in this test's temporary directory."""
    return f"sqlite:///{tmp_path / 'chatledger.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh database on each backend in turn."""
    url = request.getfixturevalue(f"{request.param}_url")
    assert isinstance(url, str)
    return url


@pytest.fixture(autouse=True)
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Key files (the master key, …) go to this test's temporary directory."""
    path = tmp_path / "secrets"
    monkeypatch.setenv("CHATLEDGER_SECRETS_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio only."""
    return "asyncio"


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # a host name other than localhost
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _refuses_outbound(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX and friends stay on this machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback(host):
        raise ConnectionRefusedError("outbound network disabled in tests")


@pytest.fixture(autouse=True)
def no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any socket connection that would leave the loopback interface."""
    real_connect: Callable[[socket.socket, Any], None] = socket.socket.connect
    real_connect_ex: Callable[[socket.socket, Any], int] = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        _refuses_outbound(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _refuses_outbound(self, address)
        return real_connect_ex(self, address)

    connect.network_guard = True  # type: ignore[attr-defined]
    connect_ex.network_guard = True  # type: ignore[attr-defined]
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[FakeProvider]:
    """The fake model provider's HTTP server on 127.0.0.1, started once per test session."""
    server = FakeProvider()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_provider(fake_provider_server: FakeProvider) -> Iterator[FakeProvider]:
    """The fake model provider with an empty script and no recorded requests."""
    fake_provider_server.reset()
    try:
        yield fake_provider_server
    finally:
        fake_provider_server.reset()
