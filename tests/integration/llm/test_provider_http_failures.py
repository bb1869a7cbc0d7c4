"""Retries, timeouts, broken streams and closed responses, the same for every provider.

Each test runs against the fake provider server for OpenAI, Anthropic and Gemini. Waits
between attempts are recorded, not slept, so a test asks for a 2 s wait and still takes
milliseconds; timeouts are real but short.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.llm.retry import RetryPolicy
from domain.errors import (
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderRateLimitError,
    ProviderStreamError,
    ProviderTimeoutError,
)
from domain.llm import (
    ChatRequest,
    PartDelta,
    ReplyDelta,
    ResponseEnded,
    ResponseStarted,
    fold_deltas,
)
from tests.support.counting_transport import CountingTransport
from tests.support.fake_provider import Fail, FakeProvider, Reply

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"]),
]

MakeModel = Callable[..., Any]
SHORT_READ = httpx.Timeout(connect=2.0, read=0.3, write=2.0, pool=2.0)


async def collect(model: Any, request: ChatRequest, into: list[ReplyDelta]) -> None:
    async with aclosing(model.stream(request)) as deltas:
        async for delta in deltas:
            into.append(delta)


async def test_a_429_is_retried_after_the_wait_the_server_asked_for(
    provider: str,
    fake_provider: FakeProvider,
    make_model: MakeModel,
    make_request: Any,
    sleeps: Any,
) -> None:
    fake_provider.script(Fail(429, retry_after=2), Reply(text="Hello there"))
    exporter = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))

    with tracing.get_tracer("test").start_as_current_span("chat fake-model"):
        reply = await make_model(provider).complete(make_request())

    assert reply.text == "Hello there"
    assert reply.attempts == 2
    assert fake_provider.calls == 2
    assert sleeps.delays == [2.0]
    (span,) = exporter.get_finished_spans()
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        (
            "gen_ai.retry",
            {"retry.attempt": 2, "retry.delay_s": 2.0, "http.response.status_code": 429},
        )
    ]
    tracing.shutdown()


async def test_a_500_is_retried_with_backoff_and_the_stream_then_completes(
    provider: str,
    fake_provider: FakeProvider,
    make_model: MakeModel,
    make_request: Any,
    sleeps: Any,
) -> None:
    fake_provider.script(Fail(500), Fail(503), Reply(text="Hello there", chunks=3))
    deltas: list[ReplyDelta] = []

    await collect(make_model(provider), make_request(), deltas)

    assert fold_deltas(deltas, provider=provider).text == "Hello there"
    assert isinstance(deltas[-1], ResponseEnded) and deltas[-1].attempts == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_after_the_last_attempt_the_last_error_is_raised_with_its_attempts(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Fail(500), Fail(500), Fail(502))

    with pytest.raises(ProviderHTTPError) as raised:
        await make_model(provider).complete(make_request())

    assert (raised.value.status, raised.value.attempts, raised.value.retryable) == (502, 3, True)
    assert fake_provider.calls == 3


async def test_a_400_is_not_retried(
    provider: str,
    fake_provider: FakeProvider,
    make_model: MakeModel,
    make_request: Any,
    sleeps: Any,
) -> None:
    fake_provider.script(Fail(400, message="bad field"), Reply(text="never sent"))

    with pytest.raises(ProviderHTTPError) as raised:
        await make_model(provider).complete(make_request())

    assert raised.value.status == 400
    assert raised.value.error_type in {"invalid_request_error", "INVALID_ARGUMENT"}
    assert "bad field" in raised.value.body
    assert (raised.value.attempts, fake_provider.calls, sleeps.delays) == (1, 1, [])


async def test_a_server_asking_for_a_longer_wait_than_allowed_is_not_waited_for(
    provider: str,
    fake_provider: FakeProvider,
    make_model: MakeModel,
    make_request: Any,
    sleeps: Any,
) -> None:
    fake_provider.script(Fail(429, retry_after=120), Reply(text="too late"))

    with pytest.raises(ProviderRateLimitError) as raised:
        await make_model(provider).complete(make_request())

    assert raised.value.retry_after == 120
    assert (fake_provider.calls, sleeps.delays) == (1, [])


async def test_a_connection_cut_after_content_breaks_the_stream_without_a_retry(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Reply(text="Hello there, Oslo", chunks=4, drop_after=2), Reply(text="x"))
    deltas: list[ReplyDelta] = []

    with pytest.raises(ProviderStreamError) as raised:
        await collect(make_model(provider), make_request(), deltas)

    text = "".join(d.text for d in deltas if isinstance(d, PartDelta))
    assert text == "Hello there, Oslo"[: len(text)] and 0 < len(text) < len("Hello there, Oslo")
    assert not any(isinstance(d, ResponseEnded) for d in deltas)
    assert raised.value.error_type in {"RemoteProtocolError", "incomplete_stream"}
    assert (raised.value.attempts, fake_provider.calls) == (1, 1)


async def test_a_connection_cut_before_content_is_retried_and_the_reply_starts_once(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Reply(text="lost", drop_after=0), Reply(text="Hello there", chunks=2))
    deltas: list[ReplyDelta] = []

    await collect(make_model(provider), make_request(), deltas)

    assert fold_deltas(deltas, provider=provider).text == "Hello there"
    assert sum(isinstance(d, ResponseStarted) for d in deltas) == 1
    assert isinstance(deltas[-1], ResponseEnded) and deltas[-1].attempts == 2
    assert fake_provider.calls == 2


async def test_a_silent_provider_times_out_within_the_read_timeout(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Reply(text="late", stall_s=10))
    model = make_model(provider, timeout=SHORT_READ, retry=RetryPolicy(max_attempts=1))
    started = time.monotonic()

    with pytest.raises(ProviderTimeoutError) as raised:
        await model.complete(make_request())

    assert time.monotonic() - started < 3
    assert (raised.value.error_type, raised.value.attempts) == ("ReadTimeout", 1)


async def test_a_stream_that_stalls_after_content_breaks_within_the_read_timeout(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Reply(text="Hello there", chunks=3, stall_after=1, stall_s=10))
    model = make_model(provider, timeout=SHORT_READ)
    deltas: list[ReplyDelta] = []
    started = time.monotonic()

    with pytest.raises(ProviderStreamError) as raised:
        await collect(model, make_request(), deltas)

    assert time.monotonic() - started < 3
    assert raised.value.error_type == "ReadTimeout"
    assert any(isinstance(d, PartDelta) and d.text for d in deltas)
    assert fake_provider.calls == 1


async def test_the_deadline_bounds_every_attempt_of_a_call_together(
    provider: str, fake_provider: FakeProvider, make_model: MakeModel, make_request: Any
) -> None:
    fake_provider.script(Reply(text="late", stall_s=10), Reply(text="late", stall_s=10))
    model = make_model(provider, deadline_s=0.5)
    started = time.monotonic()

    with pytest.raises(ProviderTimeoutError) as raised:
        await collect(model, make_request(), [])

    assert time.monotonic() - started < 3
    assert raised.value.error_type == "deadline_exceeded"
    assert fake_provider.calls == 1


async def test_a_consumer_that_stops_early_closes_the_response(
    provider: str,
    fake_provider: FakeProvider,
    make_model: MakeModel,
    make_request: Any,
    transport: CountingTransport,
) -> None:
    fake_provider.script(Reply(text="one two three four", chunks=4), Reply(text="again"))
    model = make_model(provider)

    async with aclosing(model.stream(make_request())) as deltas:
        async for delta in deltas:
            if isinstance(delta, PartDelta):
                break
    assert (transport.opened, transport.open_responses) == (1, 0)

    assert (await model.complete(make_request())).text == "again"  # the client still works


async def test_a_refused_connection_is_retried_then_reported(
    provider: str, make_model: MakeModel, make_request: Any, sleeps: Any
) -> None:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    model = make_model(provider, base_url=url + ("/v1" if provider == "openai" else ""))

    with pytest.raises(ProviderConnectionError) as raised:
        await model.complete(make_request())

    assert (raised.value.error_type, raised.value.attempts) == ("ConnectError", 3)
    assert sleeps.delays == [0.5, 1.0]
