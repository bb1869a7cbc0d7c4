"""Completions: one row per model call, for idempotency and usage.

A row says which session and version recorded the call, whether it succeeded,
its provider, model, tokens and latency, and the idempotency key and request
hash it answered. Imports domain and projections only.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.session import Session
from projections.base import Cursor, Projection


@dataclass(frozen=True)
class CompletionRow:
    """One recorded model call."""

    session_id: str
    version: int
    tenant_id: str
    completion_id: str
    status: str
    """`ok` or `failed`."""
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float
    idempotency_key: str | None
    request_hash: str | None
    created_at: datetime

    @classmethod
    def of(
        cls,
        event: Session.CompletionRecorded | Session.CompletionFailed,
        *,
        status: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> CompletionRow:
        """The row of a recorded (`ok`) or failed call."""
        return cls(
            session_id=str(event.originator_id),
            version=event.originator_version,
            tenant_id=event.tenant_id,
            completion_id=event.completion_id,
            status=status,
            provider=event.provider,
            model=event.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=event.latency_ms,
            idempotency_key=event.idempotency_key,
            request_hash=event.request_hash,
            created_at=event.timestamp,
        )


class CompletionsView:
    """Rows of recorded completions; writes go through the caller's cursor."""

    @abstractmethod
    def add_completion(self, cursor: Cursor, row: CompletionRow) -> None: ...

    @abstractmethod
    def forget_requests(self, cursor: Cursor, session_id: str) -> None:
        """Drop the request digests of an erased session's completions."""

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def find_by_idempotency_key(
        self, tenant_id: str, session_id: str, key: str
    ) -> CompletionRow | None:
        """The last successful completion that answered `key` in this session, if any."""

    @abstractmethod
    def list_completions(self, tenant_id: str, session_id: str) -> list[CompletionRow]: ...


class CompletionsProjection(Projection[CompletionsView]):
    """Keeps the completions view in step with completion events."""

    name: ClassVar[str] = "completions"
    topics: ClassVar[tuple[str, ...]] = tuple(
        get_topic(c)
        for c in (Session.CompletionRecorded, Session.CompletionFailed, Session.ContentErased)
    )

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Other events leave the view alone."""

    @process_event.register
    def _(self, event: Session.CompletionRecorded, cursor: Cursor) -> None:
        usage = event.reply.usage
        self.view.add_completion(
            cursor,
            CompletionRow.of(
                event,
                status="ok",
                input_tokens=usage.input_tokens if usage else 0,
                output_tokens=usage.output_tokens if usage else 0,
            ),
        )

    @process_event.register
    def _(self, event: Session.CompletionFailed, cursor: Cursor) -> None:
        self.view.add_completion(cursor, CompletionRow.of(event, status="failed"))

    @process_event.register
    def _(self, event: Session.ContentErased, cursor: Cursor) -> None:
        self.view.forget_requests(cursor, str(event.originator_id))
