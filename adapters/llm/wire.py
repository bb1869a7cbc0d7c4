"""Build and read the wire JSON of any provider by name (OpenAI-compatible, Anthropic, Gemini)."""

from __future__ import annotations

from typing import Any

from adapters.llm import anthropic, gemini, openai
from domain.errors import ProviderNotConfiguredError
from domain.llm import ChatReply, ChatRequest

OPENAI_COMPATIBLE = ("openai", "vllm", "ollama", "llama_cpp")
WIRE_PROVIDERS = (*OPENAI_COMPATIBLE, "anthropic", "gemini")


def build_invocation(
    provider: str, request: ChatRequest, *, stream: bool = False
) -> dict[str, Any]:
    """The exact request body `provider` would be sent for `request`."""
    if provider in OPENAI_COMPATIBLE:
        return openai.build_invocation(request, provider=provider, stream=stream)
    if provider == "anthropic":
        return anthropic.build_invocation(request, stream=stream)
    if provider == "gemini":
        return gemini.build_invocation(request)
    raise ProviderNotConfiguredError(provider, "no wire format (use openai, anthropic or gemini)")


def parse_response(body: dict[str, Any], provider: str) -> ChatReply:
    """A provider's JSON reply, normalised."""
    if provider in OPENAI_COMPATIBLE:
        return openai.parse_response(body, provider=provider)
    if provider == "anthropic":
        return anthropic.parse_response(body)
    if provider == "gemini":
        return gemini.parse_response(body)
    raise ProviderNotConfiguredError(provider, "no wire format to parse")
