"""An httpx transport over real sockets that counts the responses it opened and closed.

Tests use it to prove an adapter closes every response, also when its consumer stops
reading early. A support module, not a test module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


class CountingTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncHTTPTransport`, plus `opened` and `closed` response counts."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.opened = 0
        self.closed = 0

    @property
    def open_responses(self) -> int:
        return self.opened - self.closed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        self.opened += 1
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CountedStream(response.stream, self),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CountedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, transport: CountingTransport) -> None:
        self._inner, self._transport, self._closed = inner, transport, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.closed += 1
        await self._inner.aclose()
