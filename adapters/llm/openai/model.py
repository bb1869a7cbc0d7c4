"""`OpenAIChatModel`: the `ChatModel` port over OpenAI Chat Completions and compatible servers.

Sends through `ProviderCalls` (retries, timeouts, deadline, error translation); the body is
`build_invocation`'s and the reply `parse_response`'s or the stream decoder's. It never
creates its client nor reads keys: both are given. Imports httpx, the domain and its
sibling modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx

from adapters.llm import semconv
from adapters.llm.calls import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT, ProviderCalls
from adapters.llm.openai.stream import OpenAIStreamDecoder
from adapters.llm.openai.wire import OPENAI, build_invocation, parse_response
from adapters.llm.retry import RetryPolicy
from domain.llm import ChatReply, ChatRequest, ReplyDelta

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIChatModel:
    """Chat Completions at `base_url`; `provider` names the server (`openai`, `vllm`,
    `ollama`, `llama_cpp`) for telemetry and for the differences between them."""

    operation_name = semconv.OPERATION_CHAT

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        provider: str = OPENAI,
        organization: str | None = None,
        project: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline_s: float | None = DEFAULT_DEADLINE_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self._calls = ProviderCalls(
            client, base_url=base_url, timeout=timeout, deadline_s=deadline_s, retry=retry
        )
        self.server_address = self._calls.server_address
        self.server_port = self._calls.server_port
        self._url = f"{self._calls.base_url}/chat/completions"
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        if organization:
            self._headers["openai-organization"] = organization
        if project:
            self._headers["openai-project"] = project

    async def complete(self, request: ChatRequest) -> ChatReply:
        """One non-streaming call: the reply with every choice as a candidate."""
        body = build_invocation(request, provider=self.provider)
        payload, attempts = await self._calls.post_json(self._url, headers=self._headers, body=body)
        reply = parse_response(payload, provider=self.provider)
        return reply.model_copy(update={"attempts": attempts})

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        """The reply's deltas as the server streams them."""
        body = build_invocation(request, provider=self.provider, stream=True)
        headers = self._headers | {"accept": "text/event-stream"}
        deltas = self._calls.stream_sse(
            self._url,
            headers=headers,
            body=body,
            decoder=lambda: OpenAIStreamDecoder(provider=self.provider),
        )
        async with aclosing(deltas):
            async for delta in deltas:
                yield delta
