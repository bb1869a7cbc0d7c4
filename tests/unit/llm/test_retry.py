"""Which provider failures are tried again, and after how long (llm-wire-formats §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.llm.retry import (
    RetryPolicy,
    is_quota_exhausted,
    is_retryable,
    record_retry,
    server_hint,
)
from domain.errors import ProviderConnectionError, ProviderHTTPError

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def gemini_error(*details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": list(details)}}


def test_backoff_doubles_from_half_a_second_up_to_eight() -> None:
    policy = RetryPolicy(random_fraction=lambda: 0.0)

    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_takes_off_at_most_a_quarter_of_the_backoff() -> None:
    assert RetryPolicy(random_fraction=lambda: 0.999).backoff(3) == pytest.approx(1.5, abs=0.01)
    assert RetryPolicy(random_fraction=lambda: 0.5).backoff(1) == pytest.approx(0.4375)


def test_a_transient_error_waits_the_backoff_until_the_attempts_run_out() -> None:
    policy = RetryPolicy(random_fraction=lambda: 0.0)
    error = ProviderConnectionError("reset", error_type="ConnectError", retryable=True)

    assert [policy.delay_after(n, error) for n in (1, 2, 3)] == [0.5, 1.0, None]


def test_a_server_hint_replaces_the_backoff() -> None:
    error = ProviderHTTPError(429, "{}", retryable=True, retry_after=7.0)

    assert RetryPolicy().delay_after(1, error) == 7.0


def test_a_server_asking_for_more_than_the_max_wait_is_not_waited_for() -> None:
    error = ProviderHTTPError(429, "{}", retryable=True, retry_after=61.0)

    assert RetryPolicy().delay_after(1, error) is None
    assert RetryPolicy(max_server_wait_s=120).delay_after(1, error) == 61.0


def test_a_permanent_error_is_never_retried() -> None:
    assert RetryPolicy().delay_after(1, ProviderHTTPError(400, "{}", retryable=False)) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retryable(status: int) -> None:
    assert is_retryable(status, {}, None, None)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
def test_client_errors_are_not_retryable(status: int) -> None:
    assert not is_retryable(status, {}, None, None)


def test_openai_quota_exhaustion_is_not_retryable_although_it_is_a_429() -> None:
    body = {"error": {"type": "insufficient_quota", "code": "insufficient_quota"}}
    billing = {"error": {"type": "requests", "code": "project_spend_limit_exceeded"}}

    assert not is_retryable(429, {}, "insufficient_quota", body)
    assert not is_retryable(429, {}, "requests", billing)
    assert is_retryable(429, {}, "rate_limit_error", {"error": {"type": "rate_limit_error"}})


def test_a_gemini_daily_quota_is_not_retryable_but_a_per_minute_one_is() -> None:
    failure = "type.googleapis.com/google.rpc.QuotaFailure"
    daily = gemini_error(
        {"@type": failure, "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}
    )
    per_minute = gemini_error(
        {"@type": failure, "violations": [{"quotaId": "GenerateRequestsPerMinutePerProject"}]}
    )

    assert is_quota_exhausted("RESOURCE_EXHAUSTED", daily)
    assert not is_retryable(429, {}, "RESOURCE_EXHAUSTED", daily)
    assert is_retryable(429, {}, "RESOURCE_EXHAUSTED", per_minute)


def test_x_should_retry_overrides_the_status_table() -> None:
    assert is_retryable(400, {"x-should-retry": "true"}, None, None)
    assert not is_retryable(503, {"x-should-retry": "false"}, None, None)


def test_retry_after_ms_comes_first() -> None:
    headers = {"retry-after-ms": "1500", "retry-after": "9"}

    assert server_hint(headers, None) == 1.5


def test_retry_after_is_read_as_seconds() -> None:
    assert server_hint({"retry-after": "2"}, None) == 2.0
    assert server_hint({"retry-after": "0.25"}, None) == 0.25


def test_retry_after_is_read_as_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(NOW - timedelta(seconds=30), usegmt=True)

    assert server_hint({"retry-after": later}, None, now=NOW) == 30.0
    assert server_hint({"retry-after": earlier}, None, now=NOW) == 0.0


def test_gemini_retry_info_gives_the_delay_when_no_header_does() -> None:
    info = "type.googleapis.com/google.rpc.RetryInfo"

    assert server_hint({}, gemini_error({"@type": info, "retryDelay": "37s"})) == 37.0
    assert server_hint({}, gemini_error({"@type": info, "retryDelay": "1.5s"})) == 1.5
    assert (
        server_hint({"retry-after": "3"}, gemini_error({"@type": info, "retryDelay": "37s"})) == 3
    )


def test_unreadable_hints_are_no_hints() -> None:
    assert server_hint({"retry-after": "soon", "retry-after-ms": "-5"}, {"error": "x"}) is None
    assert server_hint({"retry-after-ms": "nan"}, None) is None


def test_each_retry_leaves_an_event_on_the_current_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    with tracer.start_as_current_span("chat fake-model"):
        record_retry(attempt=2, status=429, delay_s=1.5)
        record_retry(attempt=3, status=None, delay_s=2.0)

    (span,) = exporter.get_finished_spans()
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        (
            "gen_ai.retry",
            {"retry.attempt": 2, "retry.delay_s": 1.5, "http.response.status_code": 429},
        ),
        ("gen_ai.retry", {"retry.attempt": 3, "retry.delay_s": 2.0}),
    ]
    provider.shutdown()
