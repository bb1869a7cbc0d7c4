"""Which `ChatModel` answers for a provider name, built once from the settings.

`offline` needs nothing; `scripted` needs `CHATLEDGER_SCRIPTED_REPLIES`;
`openai`, `anthropic` and `gemini` need their API keys; `vllm`, `ollama` and
`llama_cpp` are OpenAI-compatible servers at `OPENAI_BASE_URL`. Every model is
wrapped for telemetry. Models share one `httpx.AsyncClient`, bound to the event
loop that first uses it, so a registry belongs to one loop.
"""

from __future__ import annotations

import asyncio
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
    """Chat models by provider name, built on first use and kept, per event loop.

    An `httpx.AsyncClient` belongs to the loop that first uses it, and one process
    may run turns on several loops (the server's, and the loop thread the sync
    Python API uses); so built-in models and their client are kept per loop.
    Models registered by hand are shared as they are.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        instrument: Callable[[ChatModel], ChatModel] = lambda model: model,
    ) -> None:
        self.settings = settings
        self.instrument = instrument
        self._registered: dict[str, ChatModel] = {}
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._built: dict[tuple[int, str], ChatModel] = {}

    @property
    def default_provider(self) -> str:
        return self.settings.default_provider

    def default_model(self, provider: str) -> str:
        return self.settings.default_model or DEFAULT_MODELS.get(provider, provider)

    def register(self, name: str, model: ChatModel) -> None:
        """Serve `name` with your own model (instrumented like the built-in ones)."""
        self._registered[name] = self.instrument(model)

    def unregister(self, name: str) -> None:
        """Stop serving `name` (a model registered for one job, such as a replay)."""
        self._registered.pop(name, None)

    def get(self, provider: str) -> ChatModel:
        """The model for `provider` on the running loop, or `ProviderNotConfiguredError`."""
        if provider in self._registered:
            return self._registered[provider]
        loop = id(asyncio.get_running_loop())
        key = (loop, provider)
        if key not in self._built:
            self._built[key] = self.instrument(self._build(provider, lambda: self._client(loop)))
        return self._built[key]

    def check(self, provider: str) -> None:
        """Raise `ProviderNotConfiguredError` now if `provider` cannot be served."""
        if provider not in self._registered:
            self._require(provider)

    async def aclose(self) -> None:
        """Close the running loop's provider connections (a later call opens new ones)."""
        loop = id(asyncio.get_running_loop())
        self._built = {key: model for key, model in self._built.items() if key[0] != loop}
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    def _client(self, loop: int) -> httpx.AsyncClient:
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient()
        return self._clients[loop]

    def _require(self, provider: str) -> None:
        """Raise `ProviderNotConfiguredError` unless the settings can serve `provider`."""
        s = self.settings
        missing = {
            "offline": None,
            "scripted": None if s.scripted_replies else "set CHATLEDGER_SCRIPTED_REPLIES",
            "openai": None if s.openai_api_key or s.openai_base_url else "set OPENAI_API_KEY",
            "anthropic": None if s.anthropic_api_key else "set ANTHROPIC_API_KEY",
            "gemini": None if s.gemini_api_key else "set GEMINI_API_KEY",
        }
        for compatible in OPENAI_COMPATIBLE[1:]:
            missing[compatible] = None if s.openai_base_url else "set OPENAI_BASE_URL to the server"
        if provider not in missing:
            raise ProviderNotConfiguredError(
                provider, f"unknown provider (known: {', '.join(KNOWN)})"
            )
        if (problem := missing[provider]) is not None:
            raise ProviderNotConfiguredError(provider, problem)
        if provider == "scripted":
            self._build(provider, _no_client)  # the script must also be readable

    def _build(self, provider: str, http: Callable[[], httpx.AsyncClient]) -> ChatModel:
        if provider != "scripted":
            self._require(provider)
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
            return OpenAIChatModel(
                http(),
                api_key=s.openai_api_key,
                provider=provider,
                base_url=s.openai_base_url or OPENAI_URL,
                deadline_s=deadline,
            )
        if provider == "anthropic":
            return AnthropicChatModel(
                http(),
                api_key=s.anthropic_api_key,
                base_url=s.anthropic_base_url or ANTHROPIC_URL,
                deadline_s=deadline,
            )
        return GeminiChatModel(
            http(),
            api_key=s.gemini_api_key,
            base_url=s.gemini_base_url or GEMINI_URL,
            deadline_s=deadline,
        )


def _no_client() -> httpx.AsyncClient:
    raise AssertionError("a configuration check builds no client")
