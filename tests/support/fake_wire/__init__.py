"""What the fake provider server says, in each provider's own wire format.

For a scripted `Reply` the modules `openai`, `anthropic` and `gemini` render the complete
JSON body and the SSE frames of a stream (each frame marked as content or not, so the
server can drop or stall after k content chunks); this module holds what they share and
the provider-shaped error bodies. Shapes follow llm-wire-formats §2-§4. A support package,
not tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Wire = Literal["openai", "anthropic", "gemini"]


@dataclass(frozen=True)
class Frame:
    data: bytes
    content: bool = False  # carries text, thinking or argument pieces


def split_text(text: str, chunks: int) -> list[str]:
    """`text` in `chunks` non-empty pieces (fewer if it is shorter)."""
    if not text:
        return []
    chunks = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), chunks)
    pieces, start = [], 0
    for i in range(chunks):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def default_finish(wire: Wire, *, called: bool) -> str:
    return {
        "openai": "tool_calls" if called else "stop",
        "anthropic": "tool_use" if called else "end_turn",
        "gemini": "STOP",
    }[wire]


_ERROR_TYPES: dict[Wire, dict[int, str]] = {
    "openai": {400: "invalid_request_error", 429: "rate_limit_error"},
    "anthropic": {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        504: "timeout_error",
        529: "overloaded_error",
    },
    "gemini": {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    },
}
_SERVER_ERROR_TYPES: dict[Wire, str] = {
    "openai": "server_error",
    "anthropic": "api_error",
    "gemini": "INTERNAL",
}


def default_error_type(wire: Wire, status: int) -> str:
    """The error type each provider sends with `status` (llm-wire-formats §2.5, §3.6, §4.5)."""
    return _ERROR_TYPES[wire].get(status, _SERVER_ERROR_TYPES[wire])


def error_body(
    wire: Wire, status: int, error_type: str, message: str, details: list[Any] | None
) -> dict[str, Any]:
    if wire == "anthropic":
        return {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": "req_fake",
        }
    if wire == "gemini":
        error = {"code": status, "message": message, "status": error_type}
        return {"error": error | ({"details": details} if details else {})}
    code = {"insufficient_quota": "insufficient_quota", "rate_limit_error": "rate_limit_exceeded"}
    return {
        "error": {
            "message": message,
            "type": error_type,
            "param": None,
            "code": code.get(error_type),
        }
    }


def sse(data: Any, *, event: str | None = None, content: bool = False) -> Frame:
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return Frame(f"{head}data: {text}\n\n".encode(), content=content)
