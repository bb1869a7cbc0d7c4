"""The capabilities the model needs from the outside world, as Protocols.

Adapters implement them (`OpenAIChatModel`, `AnthropicChatModel`,
`GeminiChatModel`, the offline models, the Jinja2 renderer); the domain only
calls them. Imports the domain only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from domain.llm import ChatReply, ChatRequest, ReplyDelta


class ChatModel(Protocol):
    """A provider of chat completions.

    `stream` yields normalised deltas; `complete` returns the whole reply (for
    providers that answer in one JSON body it is a separate, non-streaming call;
    it always equals the fold of what `stream` would yield). Failures raise
    `ProviderError` subclasses only, never a transport library's exceptions.
    """

    provider: str
    """The `gen_ai.provider.name` value (`openai`, `anthropic`, `gcp.gemini`, `offline` …)."""

    def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]: ...

    async def complete(self, request: ChatRequest) -> ChatReply: ...


class TemplateRenderer(Protocol):
    """Renders a situation or instructions template with the session's variables."""

    def render(self, template: str, variables: Mapping[str, Any], *, field: str) -> str:
        """The rendered text; a bad template or a sandbox violation is `TemplateError(field)`."""
        ...
