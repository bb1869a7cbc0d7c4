"""Fixtures for the provider adapters: recorded payloads, a counting HTTP client, instant
retries that remember how long they were asked to wait, and model and request factories."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.llm.anthropic import AnthropicChatModel
from adapters.llm.gemini import GeminiChatModel
from adapters.llm.openai import OpenAIChatModel
from adapters.llm.retry import RetryPolicy
from domain.llm import ChatRequest, ChatSettings
from domain.message import Message
from tests.support.counting_transport import CountingTransport
from tests.support.fake_provider import FakeProvider

FIXTURES = Path(__file__).parents[2] / "fixtures" / "llm"

ChatModelAdapter = OpenAIChatModel | AnthropicChatModel | GeminiChatModel


class RecordedSleeps:
    """Stands in for `anyio.sleep` in the retry policy: remembers each wait, waits not."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def recorded() -> Callable[[str], Any]:
    """Reads a recorded payload under tests/fixtures/llm: JSON parsed, SSE as bytes."""

    def read(name: str) -> Any:
        path = FIXTURES / name
        return path.read_bytes() if path.suffix == ".sse" else json.loads(path.read_text())

    return read


@pytest.fixture
def conversation(recorded: Callable[[str], Any]) -> ChatRequest:
    """A request with instructions, a document, an image, a tool call and its result."""
    return ChatRequest.model_validate(recorded("conversation_request.json"))


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def retry(sleeps: RecordedSleeps) -> RetryPolicy:
    """The default policy without jitter, sleeping instantly."""
    return RetryPolicy(sleep=sleeps, random_fraction=lambda: 0.0)


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
async def client(transport: CountingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


@pytest.fixture
def make_model(
    fake_provider: FakeProvider, client: httpx.AsyncClient, retry: RetryPolicy
) -> Callable[..., ChatModelAdapter]:
    """An adapter for one wire format (`openai`, `anthropic`, `gemini`) at the fake provider."""

    def make(api: str, **options: Any) -> ChatModelAdapter:
        options.setdefault("retry", retry)
        if api == "openai":
            options.setdefault("base_url", fake_provider.openai_url)
            options.setdefault("api_key", "sk-test")
            return OpenAIChatModel(client, **options)
        options.setdefault("base_url", fake_provider.url)
        if api == "anthropic":
            options.setdefault("api_key", "sk-ant-test")
            return AnthropicChatModel(client, **options)
        assert api == "gemini"
        options.setdefault("api_key", "gm-test")
        return GeminiChatModel(client, **options)

    return make


@pytest.fixture
def make_request() -> Callable[..., ChatRequest]:
    """A one-question request; keyword arguments become settings."""

    def make(text: str = "What is the weather in Oslo?", **settings: Any) -> ChatRequest:
        return ChatRequest(
            model="fake-model",
            system="Be brief.",
            messages=[Message.user(text)],
            settings=ChatSettings(**settings),
        )

    return make
