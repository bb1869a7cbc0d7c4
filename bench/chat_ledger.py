"""A ledger for chat measurements: a fresh database, the fake OpenAI server as its provider.

`with chat_ledger(backend, name, postgres_url=…) as ledger:` starts `bench.fake_openai`,
opens the ledger on a fresh database (`bench.databases.fresh`) with OpenAI at the fake
server's URL as its default provider (and any further `settings`), and closes all three
afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.settings import Settings
from bench.databases import fresh
from bench.fake_openai import FakeOpenAI


@contextmanager
def chat_ledger(backend: str, name: str, *, postgres_url: str, **settings: Any) -> Iterator[Ledger]:
    with FakeOpenAI() as fake, fresh(backend, name, postgres_url=postgres_url) as target:
        ledger = open_ledger(
            Settings(
                database_url=target.url,
                default_provider="openai",
                openai_base_url=fake.openai_url,
                openai_api_key="bench",
                **settings,
            )
        )
        try:
            yield ledger
        finally:
            ledger.close()
