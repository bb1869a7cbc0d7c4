"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """A ledger on the test's own database (SQLite and PostgreSQL), closed afterwards.

    Tests that need another configuration (a provider, telemetry) define their own."""
    ledger = open_ledger(database_url=database_url)
    try:
        yield ledger
    finally:
        ledger.close()
