"""Fixtures for driving the HTTP API in-process: settings, ledger, client, a session.

Every test runs on SQLite and PostgreSQL (`database_url` is parametrised). The
client checks every response it sees: each carries an `X-Correlation-ID`, and
each error is a problem+json document whose text holds no NUL character or
lone surrogate. Unexpected exceptions are raised into the test by the transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.http.schemas import Problem
from adapters.ledger import Ledger
from adapters.settings import Settings
from tests.support.fake_provider import FakeProvider


def _clean_text_everywhere(value: Any) -> bool:
    if isinstance(value, str):
        return not any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(
            _clean_text_everywhere(k) and _clean_text_everywhere(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_clean_text_everywhere(item) for item in value)
    return True


async def _check_response(response: httpx.Response) -> None:
    await response.aread()
    assert response.headers.get("x-correlation-id"), "every response carries a correlation id"
    readiness = response.request.url.path == "/readyz"  # answers its own shape, 503 included
    if response.status_code >= 400 and not readiness:
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        problem = Problem.model_validate(body)
        assert problem.status == response.status_code
        assert _clean_text_everywhere(body)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Default settings on this test's database."""
    return Settings(database_url=database_url)


@pytest.fixture
def make_fake_settings(database_url: str, fake_provider: FakeProvider) -> Callable[..., Settings]:
    """Settings on this test's database with OpenAI, Anthropic and Gemini all served by the
    fake provider; `default_provider` (and any other setting) as given."""

    def make(default_provider: str = "offline", **overrides: Any) -> Settings:
        return Settings(
            database_url=database_url,
            default_provider=default_provider,
            openai_base_url=fake_provider.openai_url,
            openai_api_key="test",
            anthropic_base_url=fake_provider.url,
            anthropic_api_key="test",
            gemini_base_url=fake_provider.url,
            gemini_api_key="test",
            **overrides,
        )

    return make


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger the app serves, for setting up what the API cannot (other tenants)."""
    ledger = open_ledger(settings)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
async def client(ledger: Ledger, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to `create_app(ledger, settings)` in-process."""
    app = create_app(ledger, settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        event_hooks={"response": [_check_response]},
    ) as client:
        yield client
    await ledger.chat_service.models.aclose()  # provider connections opened on this loop


@pytest.fixture
async def session(client: httpx.AsyncClient) -> dict[str, Any]:
    """A session created through the API, as the API answered it."""
    response = await client.post(
        "/v1/sessions",
        json={"title": "Trip to Lisbon", "user_id": "u1", "agent_id": "a1"},
    )
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body
