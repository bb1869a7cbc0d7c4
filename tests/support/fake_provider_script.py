"""What a test scripts the fake provider to do: `Reply`, `Fail`, and the `ToolCall`s and
`TokenUsage` a reply carries. Plain frozen dataclasses, in no provider's wire format (the
fake provider renders them in whichever format it is asked in). A support module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes; `id=None` takes a default, `""` sends none (Gemini)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class TokenUsage:
    """Token counts in the normalised arithmetic: input includes cached, output reasoning."""

    input_tokens: int = 12
    output_tokens: int = 5
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class Reply:
    """A successful answer, and how it is delivered."""

    text: str = ""
    chunks: int = 1
    """How many stream chunks the text (and the thinking) is split into."""
    thinking: str | None = None
    thinking_signature: str = "sig-fake-thinking"
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage | None = field(default_factory=TokenUsage)
    finish_reason: str | None = None
    """The provider's raw value; by default `stop`/`end_turn`/`STOP` (tool-call variants)."""
    model: str = "fake-model-2026"
    response_id: str = "resp_fake_1"
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None
    """Close the connection, mid-body, after this many content chunks (streams only)."""
    stall_s: float = 0.0
    """Go silent for this long: before answering at all, or mid-stream (`stall_after`)."""
    stall_after: int | None = None
    error_after: int | None = None
    """Send an in-band stream error after this many content chunks, then end the body."""
    error_type: str | None = None
    """The in-band error's type (default: the provider's overload/unavailable type)."""


@dataclass(frozen=True)
class Fail:
    """An error answer: status, headers and a provider-shaped body (or `body` verbatim)."""

    status: int
    error_type: str | None = None
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    """Sent as the `Retry-After` header (seconds)."""
    details: list[Any] | None = None
    """Gemini `error.details` (RetryInfo, QuotaFailure …)."""
    body: Any = None


Behaviour = Reply | Fail
"""One scripted call."""
