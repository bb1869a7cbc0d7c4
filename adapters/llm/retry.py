"""When a failed model call is tried again, and how long to wait first (llm-wire-formats §6).

Owns the classification of provider failures (408/409/429/5xx/529 and transport errors are
transient; quota exhaustion is not; `x-should-retry` overrides both), the server's wait hints
(`retry-after-ms`, `Retry-After` seconds or HTTP date, Gemini `RetryInfo.retryDelay`), the
exponential backoff with jitter, and the `gen_ai.retry` span event each retry leaves on the
current span. Randomness and sleeping are injected so tests are deterministic and instant.
Imports the domain, httpx's header type, anyio and the OpenTelemetry API; never a provider.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
from opentelemetry import trace

from adapters.llm import semconv
from domain.errors import ProviderError, ProviderHTTPError

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

QUOTA_ERROR_TYPES = frozenset(
    {
        # OpenAI: billing and spend limits come back as 429 but never clear by waiting.
        "insufficient_quota",
        "credit_balance_exhausted",
        "project_spend_limit_exceeded",
        "billing_hard_limit_reached",
    }
)

_GOOGLE_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_GOOGLE_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)s\s*$")


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them."""

    max_attempts: int = 3
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter: float = 0.25
    """Up to this fraction is taken off each backoff delay, at random."""
    max_server_wait_s: float = 60.0
    """A server asking for a longer wait than this is not waited for: the call fails."""
    random_fraction: Callable[[], float] = field(default=random.random, repr=False)
    """A draw in [0, 1) that scales the jitter; inject a constant for deterministic tests."""
    sleep: Callable[[float], Awaitable[None]] = field(default=anyio.sleep, repr=False)

    def backoff(self, attempts: int) -> float:
        """The wait after `attempts` failed attempts when the server gave no hint."""
        base = min(self.initial_delay_s * 2.0 ** (attempts - 1), self.max_delay_s)
        return base * (1 - self.jitter * self.random_fraction())

    def delay_after(self, attempts: int, error: ProviderError) -> float | None:
        """Seconds to wait before the next attempt, or `None` when the call should fail now."""
        if not error.retryable or attempts >= self.max_attempts:
            return None
        hint = error.retry_after if isinstance(error, ProviderHTTPError) else None
        if hint is not None:
            return hint if 0 <= hint <= self.max_server_wait_s else None
        return self.backoff(attempts)


def is_retryable(
    status: int, headers: Mapping[str, str], error_type: str | None, payload: Any
) -> bool:
    """Whether an HTTP failure is transient: the status table, quotas, then `x-should-retry`."""
    should_retry = headers.get("x-should-retry", "").strip().lower()
    if should_retry in ("true", "false"):
        return should_retry == "true"
    if is_quota_exhausted(error_type, payload):
        return False
    return status in RETRYABLE_STATUSES


def is_quota_exhausted(error_type: str | None, payload: Any) -> bool:
    """OpenAI billing/quota errors and Gemini daily quotas: waiting will not help."""
    error = payload.get("error") if isinstance(payload, dict) else None
    codes = {error_type}
    if isinstance(error, dict):
        codes |= {error.get("type"), error.get("code")}
    if codes & QUOTA_ERROR_TYPES:
        return True
    for detail in _google_details(payload):
        if detail.get("@type") != _GOOGLE_QUOTA_FAILURE:
            continue
        for violation in detail.get("violations") or []:
            if not isinstance(violation, dict):
                continue
            quota = f"{violation.get('quotaId', '')} {violation.get('quotaMetric', '')}"
            if "perday" in quota.lower().replace("_", ""):
                return True
    return False


def server_hint(
    headers: Mapping[str, str], payload: Any, *, now: datetime | None = None
) -> float | None:
    """The wait (seconds) the server asked for, or `None` when it gave no usable hint."""
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _number(retry_after)
        if seconds is not None:
            return seconds
        try:
            when = parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    for detail in _google_details(payload):
        if detail.get("@type") == _GOOGLE_RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def record_retry(*, attempt: int, status: int | None, delay_s: float) -> None:
    """Leave a `gen_ai.retry` event on the current span; `attempt` is the one about to start."""
    attributes: dict[str, int | float] = {
        semconv.RETRY_ATTEMPT: attempt,
        semconv.RETRY_DELAY_S: delay_s,
    }
    if status is not None:
        attributes[semconv.HTTP_RESPONSE_STATUS_CODE] = status
    trace.get_current_span().add_event(semconv.GEN_AI_RETRY_EVENT, attributes)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 and math.isfinite(number) else None


def _google_details(payload: Any) -> list[dict[str, Any]]:
    error = payload.get("error") if isinstance(payload, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return []
    return [detail for detail in details if isinstance(detail, dict)]
