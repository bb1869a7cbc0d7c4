"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """A ledger on the test's own database (SQLite and PostgreSQL), closed afterwards.

    Tests that need another configuration (a provider, telemetry) define their own."""
    ledger = open_ledger(database_url=database_url)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def chat_ledger(database_url: str, fake_provider: FakeProvider) -> Iterator[Ledger]:
    """A ledger whose default provider is OpenAI, answered by the fake provider."""
    ledger = open_ledger(
        Settings(
            database_url=database_url,
            default_provider="openai",
            openai_base_url=fake_provider.openai_url,
            openai_api_key="test",
        )
    )
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def ledgers(database_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers on one database, as two processes: each has its own cache."""
    first, second = (open_ledger(Settings(database_url=database_url)) for _ in range(2))
    try:
        yield first, second
    finally:
        first.close()
        second.close()
