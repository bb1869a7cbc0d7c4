"""Which `ChatModel` answers for a provider name, built once from the settings.

`offline` needs nothing; `scripted` needs `CHATLEDGER_SCRIPTED_REPLIES`;
`openai`, `anthropic` and `gemini` need their API keys; `vllm`, `ollama` and
`llama_cpp` are OpenAI-compatible servers at `OPENAI_BASE_URL`. Every model is
wrapped for telemetry. Models share one `httpx.AsyncClient`, bound to the event
loop that first uses it, so a registry belongs to one loop.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from adapters.llm.anthropic import AnthropicChatModel
from adapters.llm.anthropic.model import DEFAULT_BASE_URL as ANTHROPIC_URL
from adapters.llm.gemini import GeminiChatModel
from adapters.llm.gemini.model import DEFAULT_BASE_URL as GEMINI_URL
from adapters.llm.offline import OfflineChatModel, ScriptedChatModel
from adapters.llm.openai import OpenAIChatModel
from adapters.llm.openai.model import DEFAULT_BASE_URL as OPENAI_URL
from adapters.llm.wire import OPENAI_COMPATIBLE
from adapters.settings import Settings
from domain.errors import ProviderNotConfiguredError
from domain.ports import ChatModel

DEFAULT_MODELS = {
    "offline": "offline-echo",
    "scripted": "scripted",
    "replay": "replay",
    "openai": "gpt-5-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}
KNOWN = ("offline", "scripted", *OPENAI_COMPATIBLE, "anthropic", "gemini")


class ModelRegistry:
    """Chat models by provider name, built on first use and kept."""

    def __init__(
        self,
        settings: Settings,
        *,
        instrument: Callable[[ChatModel], ChatModel] = lambda model: model,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.instrument = instrument
        self._client = client
        self._models: dict[str, ChatModel] = {}

    @property
    def default_provider(self) -> str:
        return self.settings.default_provider

    def default_model(self, provider: str) -> str:
        return self.settings.default_model or DEFAULT_MODELS.get(provider, provider)

    def register(self, name: str, model: ChatModel) -> None:
        """Serve `name` with your own model (instrumented like the built-in ones)."""
        self._models[name] = self.instrument(model)

    def unregister(self, name: str) -> None:
        """Stop serving `name` (a model registered for one job, such as a replay)."""
        self._models.pop(name, None)

    def get(self, provider: str) -> ChatModel:
        """The model for `provider`, or `ProviderNotConfiguredError`."""
        if provider not in self._models:
            self._models[provider] = self.instrument(self._build(provider))
        return self._models[provider]

    def check(self, provider: str) -> None:
        """Raise `ProviderNotConfiguredError` now if `provider` cannot be served."""
        self.get(provider)

    async def aclose(self) -> None:
        """Close the provider connections (a later call opens new ones)."""
        if self._client is not None:
            client, self._client = self._client, None
            self._models = {n: m for n, m in self._models.items() if n in ("offline",)}
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    def _build(self, provider: str) -> ChatModel:
        s = self.settings
        if provider == "offline":
            return OfflineChatModel()
        if provider == "scripted":
            if not s.scripted_replies:
                raise ProviderNotConfiguredError(provider, "set CHATLEDGER_SCRIPTED_REPLIES")
            try:
                return ScriptedChatModel.from_file(s.scripted_replies, loop=True)
            except ValueError as error:
                raise ProviderNotConfiguredError(provider, str(error)) from None
        deadline = s.provider_timeout
        if provider in OPENAI_COMPATIBLE:
            if provider == "openai" and not s.openai_api_key and not s.openai_base_url:
                raise ProviderNotConfiguredError(provider, "set OPENAI_API_KEY")
            if provider != "openai" and not s.openai_base_url:
                raise ProviderNotConfiguredError(provider, "set OPENAI_BASE_URL to the server")
            return OpenAIChatModel(
                self._http(),
                api_key=s.openai_api_key,
                provider=provider,
                base_url=s.openai_base_url or OPENAI_URL,
                deadline_s=deadline,
            )
        if provider == "anthropic":
            if not s.anthropic_api_key:
                raise ProviderNotConfiguredError(provider, "set ANTHROPIC_API_KEY")
            return AnthropicChatModel(
                self._http(),
                api_key=s.anthropic_api_key,
                base_url=s.anthropic_base_url or ANTHROPIC_URL,
                deadline_s=deadline,
            )
        if provider == "gemini":
            if not s.gemini_api_key:
                raise ProviderNotConfiguredError(provider, "set GEMINI_API_KEY")
            return GeminiChatModel(
                self._http(),
                api_key=s.gemini_api_key,
                base_url=s.gemini_base_url or GEMINI_URL,
                deadline_s=deadline,
            )
        raise ProviderNotConfiguredError(provider, f"unknown provider (known: {', '.join(KNOWN)})")
