"""`AnthropicChatModel`: the `ChatModel` port over the Anthropic Messages API.

Sends through `ProviderCalls` (retries, timeouts, deadline, error translation) with the
`x-api-key` and `anthropic-version` headers (llm-wire-formats §3.1); the body is
`build_invocation`'s for the configured API version. It never creates its client nor reads
keys: both are given. Imports httpx, the domain and its sibling modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx

from adapters.llm import semconv
from adapters.llm.anthropic.stream import AnthropicStreamDecoder
from adapters.llm.anthropic.wire import (
    ANTHROPIC,
    DEFAULT_MAX_TOKENS,
    DEFAULT_VERSION,
    build_invocation,
    parse_response,
)
from adapters.llm.calls import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT, ProviderCalls
from adapters.llm.retry import RetryPolicy
from domain.llm import ChatReply, ChatRequest, ReplyDelta

DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicChatModel:
    """Claude models through `POST {base_url}/v1/messages`."""

    operation_name = semconv.OPERATION_CHAT

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        provider: str = ANTHROPIC,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline_s: float | None = DEFAULT_DEADLINE_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self.version = version
        self.default_max_tokens = default_max_tokens
        self._calls = ProviderCalls(
            client, base_url=base_url, timeout=timeout, deadline_s=deadline_s, retry=retry
        )
        self.server_address = self._calls.server_address
        self.server_port = self._calls.server_port
        self._url = f"{self._calls.base_url}/v1/messages"
        self._headers = {"content-type": "application/json", "anthropic-version": version}
        if api_key:
            self._headers["x-api-key"] = api_key

    async def complete(self, request: ChatRequest) -> ChatReply:
        """One non-streaming call."""
        body = build_invocation(
            request, version=self.version, default_max_tokens=self.default_max_tokens
        )
        payload, attempts = await self._calls.post_json(self._url, headers=self._headers, body=body)
        reply = parse_response(payload, provider=self.provider)
        return reply.model_copy(update={"attempts": attempts})

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        """The reply's deltas as the API streams them."""
        body = build_invocation(
            request,
            stream=True,
            version=self.version,
            default_max_tokens=self.default_max_tokens,
        )
        deltas = self._calls.stream_sse(
            self._url,
            headers=self._headers | {"accept": "text/event-stream"},
            body=body,
            decoder=lambda: AnthropicStreamDecoder(provider=self.provider),
        )
        async with aclosing(deltas):
            async for delta in deltas:
                yield delta
