"""Calls to a provider's HTTP API: a JSON POST or an SSE stream, with retries and a deadline.

`ProviderCalls` is what every provider adapter sends through. Each attempt gets httpx's
connect/read/write/pool timeouts; the whole call (all attempts and the waits between them)
gets one deadline. A stream is retried only while no content (a `PartDelta`: text, thinking,
arguments) has been forwarded to the consumer: the deltas before it (`ResponseStarted`, the
first `PartStarted`) are held back until then, so a retried stream is seen only once. After
content, a failure raises `ProviderStreamError` and is never retried.
Responses are always closed, also when the consumer stops reading early. httpx exceptions
and error statuses become `ProviderError`s in `_translating_errors()`, nowhere else.
Imports httpx, anyio, the domain and the sibling modules `sse`, `retry` and `errors`.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import AbstractContextManager, AsyncExitStack, aclosing, contextmanager, nullcontext
from typing import Any, Protocol

import anyio
import httpx

from adapters.llm.errors import http_error, in_band_error, invalid_response, parse_json
from adapters.llm.retry import RetryPolicy, record_retry
from adapters.llm.sse import ServerSentEvent, aiter_sse
from domain.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderHTTPError,
    ProviderStreamError,
    ProviderTimeoutError,
)
from domain.llm import PartDelta, ReplyDelta, ResponseEnded

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=30.0, pool=5.0)
"""Per attempt; `read` is the longest silence between two chunks of a stream."""
DEFAULT_DEADLINE_S = 300.0
"""Per call, all attempts and waits included."""


class StreamDecoder(Protocol):
    """Turns one attempt's SSE events into deltas; a fresh decoder serves each attempt."""

    @property
    def done(self) -> bool:
        """The provider's end marker arrived (`[DONE]`, `message_stop`): stop reading."""
        ...

    def feed(self, event: ServerSentEvent) -> list[ReplyDelta]:
        """The deltas one event adds; an in-band error event raises a `ProviderError`."""
        ...

    def finish(self) -> ResponseEnded:
        """The closing delta once the body ended; raises if the stream was cut short."""
        ...


class ProviderCalls:
    """Sends one provider's requests: retries, timeouts, deadline and error translation."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline_s: float | None = DEFAULT_DEADLINE_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.deadline_s = deadline_s
        self.retry = retry or RetryPolicy()
        self.server_address, self.server_port = server_address_and_port(self.base_url)

    async def post_json(
        self, url: str, *, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[dict[str, Any], int]:
        """The JSON object the provider answered, and how many attempts it took."""
        deadline = _Deadline(self.deadline_s)
        attempts = 0
        while True:
            attempts += 1
            try:
                with _translating_errors(), deadline.limit():
                    response = await self.client.post(
                        url, json=body, headers=headers, timeout=self.timeout
                    )
                    await _raise_for_status(response)
                payload = parse_json(response.text)
                if not isinstance(payload, dict):
                    raise invalid_response(f"expected a JSON object, got {response.text[:200]!r}")
                return payload, attempts
            except ProviderError as error:
                error.attempts = attempts
                if not await self._waited_for_retry(attempts, error, deadline):
                    raise

    async def stream_sse(
        self,
        url: str,
        *,
        headers: dict[str, str],
        body: dict[str, Any],
        decoder: Callable[[], StreamDecoder],
    ) -> AsyncGenerator[ReplyDelta, None]:
        """The deltas of a streamed reply; the last one is `ResponseEnded` with `attempts`."""
        deadline = _Deadline(self.deadline_s)
        attempts = 0
        while True:
            attempts += 1
            forwarded = False
            try:
                async with AsyncExitStack() as stack:
                    with _translating_errors(), deadline.limit():
                        response = await stack.enter_async_context(
                            self.client.stream(
                                "POST", url, json=body, headers=headers, timeout=self.timeout
                            )
                        )
                        await _raise_for_status(response)
                    stray: list[str] = []
                    events = await stack.enter_async_context(
                        aclosing(aiter_sse(response.aiter_bytes(), ignored=stray))
                    )
                    state = decoder()
                    held: list[ReplyDelta] = []
                    while not state.done:
                        with _translating_errors(), deadline.limit():
                            event = await anext(events, None)
                        if event is None:
                            _raise_stray_error(stray)
                            break
                        for delta in state.feed(event):
                            if not forwarded and not isinstance(delta, PartDelta):
                                held.append(delta)  # no content yet: a retry stays invisible
                                continue
                            for earlier in held:
                                yield earlier
                            held.clear()
                            forwarded = True
                            yield delta
                    if state.done:
                        # Read past the end marker to the end of the body, so the connection
                        # goes back to the pool instead of being closed mid-response.
                        with _translating_errors(), deadline.limit():
                            async for _ in events:
                                pass
                    ended = state.finish().model_copy(update={"attempts": attempts})
                    for earlier in held:
                        yield earlier
                    yield ended
                    return
            except ProviderError as error:
                error.attempts = attempts
                if forwarded:
                    broken = ProviderStreamError(
                        f"the stream broke after content was forwarded: {error.detail}",
                        error_type=error.error_type,
                    )
                    broken.attempts = attempts
                    raise broken from error
                if not await self._waited_for_retry(attempts, error, deadline):
                    raise

    async def _waited_for_retry(
        self, attempts: int, error: ProviderError, deadline: _Deadline
    ) -> bool:
        """Wait before the next attempt and say so, or say the call must fail now."""
        delay = self.retry.delay_after(attempts, error)
        if delay is None or delay >= deadline.remaining():
            return False
        status = error.status if isinstance(error, ProviderHTTPError) else None
        record_retry(attempt=attempts + 1, status=status, delay_s=delay)
        await self.retry.sleep(delay)
        return True


def server_address_and_port(base_url: str) -> tuple[str, int]:
    """`server.address` and `server.port` of a base URL (443 for https, 80 for http)."""
    url = httpx.URL(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.host, port


def event_json(event: ServerSentEvent) -> dict[str, Any]:
    """The JSON object an SSE event carries."""
    payload = parse_json(event.data)
    if not isinstance(payload, dict):
        raise invalid_response(f"expected a JSON object in the stream, got {event.data[:200]!r}")
    return payload


class _Deadline:
    """One call's deadline on anyio's clock; `None` seconds means none."""

    def __init__(self, seconds: float | None) -> None:
        self._at = None if seconds is None else anyio.current_time() + seconds

    def remaining(self) -> float:
        return math.inf if self._at is None else self._at - anyio.current_time()

    def limit(self) -> AbstractContextManager[Any]:
        # Entered around each await, never across a `yield`: a cancel scope must not span one.
        return nullcontext() if self._at is None else anyio.fail_at(self._at)


@contextmanager
def _translating_errors() -> Iterator[None]:
    """httpx's exceptions, error statuses and the deadline, as the domain's `ProviderError`s."""
    try:
        yield
    except httpx.HTTPStatusError as error:
        response = error.response
        raise http_error(response.status_code, response.headers, response.text) from None
    except httpx.TimeoutException as error:
        # A pool timeout is local saturation: waiting and trying again would only add to it.
        retryable = not isinstance(error, httpx.PoolTimeout)
        raise ProviderTimeoutError(
            f"provider did not answer in time: {type(error).__name__} {error}".strip(),
            error_type=type(error).__name__,
            retryable=retryable,
        ) from None
    except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
        raise ProviderConnectionError(
            f"connection to the provider failed: {type(error).__name__} {error}".strip(),
            error_type=type(error).__name__,
            retryable=True,
        ) from None
    except httpx.HTTPError as error:
        raise ProviderConnectionError(
            f"request to the provider failed: {type(error).__name__} {error}".strip(),
            error_type=type(error).__name__,
        ) from None
    except TimeoutError:
        raise ProviderTimeoutError(
            "the call's deadline passed before the provider finished",
            error_type="deadline_exceeded",
        ) from None


async def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_success:
        await response.aread()  # the error body, for the error's message and type
        response.raise_for_status()


def _raise_stray_error(stray: list[str]) -> None:
    """A JSON error object sent outside SSE framing (Gemini, after the stream began)."""
    if not stray:
        return
    payload = parse_json("\n".join(stray))
    if isinstance(payload, dict) and "error" in payload:
        raise in_band_error(payload)
