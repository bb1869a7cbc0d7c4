"""How provider failures become the domain's `ProviderError`s: HTTP error bodies, in-band
stream errors, malformed replies and content a provider cannot take.

The three APIs shape their error bodies differently (`error.type` for OpenAI and Anthropic,
`error.status` for Gemini; OpenAI-compatible servers send loosely shaped ones), so the type is
read defensively and falls back to the HTTP status as a string: `error_type` stays
low-cardinality for `error.type`. Whether the failure is worth retrying, and after how long,
is decided by `adapters.llm.retry`. Imports the domain and `adapters.llm.retry` only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.llm.retry import is_retryable, server_hint
from domain.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderHTTPError,
    ProviderRateLimitError,
)

# The HTTP status each provider error type comes with (llm-wire-formats §2.5, §3.6, §4.5);
# used for errors that arrive inside a 200 stream, where the real status was lost.
_STATUS_BY_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "api_error": 500,
    "server_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class UnsupportedContentError(ProviderError, ValueError):
    """The request holds content or a setting this provider's API cannot express.

    Raised while building the request, before anything is sent; never retried.
    """

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}", error_type="unsupported_content")
        self.provider = provider


def provider_error_type(payload: Any) -> str | None:
    """The provider's own error type in an error body, if it names one."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    for key in ("type", "status", "code"):
        value = error.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def http_error(status: int, headers: Mapping[str, str], body: str) -> ProviderHTTPError:
    """The domain error for an HTTP error response (a 429 is a `ProviderRateLimitError`)."""
    payload = parse_json(body)
    error_type = provider_error_type(payload) or str(status)
    error_class = ProviderRateLimitError if status == 429 else ProviderHTTPError
    return error_class(
        status,
        body,
        error_type=error_type,
        retryable=is_retryable(status, headers, error_type, payload),
        retry_after=server_hint(headers, payload),
    )


def in_band_error(payload: dict[str, Any]) -> ProviderHTTPError:
    """The domain error for an `error` object a provider sent inside a streamed body.

    It carries the status its type stands for (Gemini names it in `error.code`), so it is
    retried, before any content was forwarded, exactly like the same error sent as HTTP.
    """
    error = payload.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        status = error["code"]
    else:
        status = _STATUS_BY_ERROR_TYPE.get(provider_error_type(payload) or "", 500)
    if not 400 <= status <= 599:
        status = 500
    return http_error(status, {}, json.dumps(payload, ensure_ascii=False))


def invalid_response(detail: str) -> ProviderError:
    """A reply the adapter cannot read (not JSON, or not the shape the API documents)."""
    return ProviderError(
        f"provider sent an unreadable reply: {detail}", error_type="invalid_response"
    )


def incomplete_stream(detail: str) -> ProviderError:
    """A stream whose body ended before the provider's end marker (a cut connection)."""
    return ProviderConnectionError(
        f"the stream ended early: {detail}", error_type="incomplete_stream", retryable=True
    )


def parse_json(text: str) -> Any:
    """The JSON value of `text`, or `None` when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None
