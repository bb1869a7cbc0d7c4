"""`GeminiChatModel`: the `ChatModel` port over the Gemini API's generateContent.

Sends through `ProviderCalls` (retries, timeouts, deadline, error translation) with the key
in `x-goog-api-key`, never in the URL (llm-wire-formats §4.1): `:generateContent` for a
complete reply, `:streamGenerateContent?alt=sse` for a stream. The API version (`v1beta`)
is configurable. It never creates its client nor reads keys: both are given. Imports httpx,
the domain and its sibling modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx

from adapters.llm import semconv
from adapters.llm.calls import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT, ProviderCalls
from adapters.llm.gemini.reply import GEMINI, parse_response
from adapters.llm.gemini.request import build_invocation
from adapters.llm.gemini.stream import GeminiStreamDecoder
from adapters.llm.retry import RetryPolicy
from domain.llm import ChatReply, ChatRequest, ReplyDelta

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"


class GeminiChatModel:
    """Gemini models through `{base_url}/{api_version}/models/{model}:generateContent`."""

    operation_name = semconv.OPERATION_GENERATE_CONTENT

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        provider: str = GEMINI,
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
        self._models_url = f"{self._calls.base_url}/{api_version}/models"
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["x-goog-api-key"] = api_key

    async def complete(self, request: ChatRequest) -> ChatReply:
        """One non-streaming `generateContent` call."""
        url = f"{self._models_url}/{_model_id(request.model)}:generateContent"
        body = build_invocation(request)
        payload, attempts = await self._calls.post_json(url, headers=self._headers, body=body)
        reply = parse_response(payload, provider=self.provider)
        return reply.model_copy(update={"attempts": attempts})

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        """The reply's deltas as `streamGenerateContent` sends them."""
        url = f"{self._models_url}/{_model_id(request.model)}:streamGenerateContent?alt=sse"
        deltas = self._calls.stream_sse(
            url,
            headers=self._headers | {"accept": "text/event-stream"},
            body=build_invocation(request),
            decoder=lambda: GeminiStreamDecoder(provider=self.provider),
        )
        async with aclosing(deltas):
            async for delta in deltas:
                yield delta


def _model_id(model: str) -> str:
    return model.removeprefix("models/")
