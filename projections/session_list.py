"""The session list: one row per session, for listing, filtering and paging.

Rows hold title, user, agent, metadata, created/updated times, message count,
status (`active`, `deleted`, `erased`) and version; an erased session's row
keeps no title or metadata. Lists are tenant-scoped, ordered by `updated_at` (then id),
filtered by user, agent and metadata containment, and paged by cursor or offset.
Imports domain and projections only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, ClassVar, Literal
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.sealing import ERASED
from domain.session import Session, session_event_classes
from projections.base import Cursor, Projection
from projections.paging import Page

Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class SessionSummary:
    """A session as the list shows it."""

    id: str
    tenant_id: str
    title: str
    user_id: str | None
    agent_id: str | None
    metadata: dict[str, Any]
    status: str
    message_count: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SessionQuery:
    """What to list: one tenant's sessions, filtered and paged."""

    tenant_id: str
    limit: int = 50
    cursor: str | None = None
    offset: int | None = None
    user_id: str | None = None
    agent_id: str | None = None
    metadata_filter: dict[str, Any] | None = None
    """JSON containment: a session matches when its metadata contains this object."""
    order: Order = "desc"
    include_deleted: bool = False


class SessionListView:
    """Rows of the session list; writes go through the caller's cursor."""

    @abstractmethod
    def add_session(self, cursor: Cursor, event: Session.Created) -> None: ...

    @abstractmethod
    def touch(
        self,
        cursor: Cursor,
        event: Session.Event,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_delta: int = 0,
        reset_messages: bool = False,
        status: str | None = None,
    ) -> None:
        """Record that a session changed (its version and `updated_at` follow the event)."""

    @abstractmethod
    def get_metadata(self, cursor: Cursor, session_id: str) -> dict[str, Any]: ...

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]: ...


class SessionListProjection(Projection[SessionListView]):
    """Keeps the session list in step with session events."""

    name: ClassVar[str] = "session_list"
    topics: ClassVar[tuple[str, ...]] = tuple(get_topic(c) for c in session_event_classes())
    """Every session event: each moves the row's version and `updated_at`."""

    def __init__(self, view: SessionListView) -> None:
        super().__init__(view)
        self._moves_only: dict[type, bool] = {}

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    def process_batch(self, batch: Sequence[tuple[Any, int]], cursor: Cursor) -> None:
        """A run of one session's events that only move its row (messages appended, and
        events without a handler of their own, such as a turn's `CompletionRecorded`) is
        one update, to the row they would leave one by one: the count grows by the run's
        messages, the version and time are the last event's."""
        for session_id, run in groupby(batch, key=self._run_of):
            if session_id is None:
                for event, position in run:
                    self.process_at(event, cursor, position)
            else:
                events = [event for event, _ in run]
                added = sum(isinstance(e, Session.MessageAppended) for e in events)
                self.view.touch(cursor, events[-1], message_delta=added)

    def _run_of(self, item: tuple[Any, int]) -> UUID | None:
        """The session whose row `item`'s event only moves; None for an event that
        changes more (created, renamed, cleared …)."""
        event = item[0]
        cls = type(event)
        moves_only = self._moves_only.get(cls)
        if moves_only is None:
            # The default handler (a plain touch) or the message's (a touch counting one).
            moving = {self._function(object), self._function(Session.MessageAppended)}
            moves_only = self._moves_only[cls] = self._function(cls) in moving
        result: UUID | None = event.originator_id if moves_only else None
        return result

    def _function(self, event_type: type) -> Any:
        """The function that handles `event_type`."""
        return getattr(self._handler(event_type), "__func__", None)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Events that do not show in the list still move its version and time."""
        self.view.touch(cursor, event)

    @process_event.register
    def _(self, event: Session.Created, cursor: Cursor) -> None:
        self.view.add_session(cursor, event)

    @process_event.register
    def _(self, event: Session.MessageAppended, cursor: Cursor) -> None:
        self.view.touch(cursor, event, message_delta=1)

    @process_event.register
    def _(self, event: Session.TitleChanged, cursor: Cursor) -> None:
        self.view.touch(cursor, event, title=event.title)

    @process_event.register
    def _(self, event: Session.MetadataUpdated, cursor: Cursor) -> None:
        current = self.view.get_metadata(cursor, str(event.originator_id))
        patched = Session.patched(current, event.patch, event.mode)
        self.view.touch(cursor, event, metadata=patched)

    @process_event.register
    def _(self, event: Session.HistoryCleared, cursor: Cursor) -> None:
        self.view.touch(cursor, event, reset_messages=True)

    @process_event.register
    def _(self, event: Session.Deleted, cursor: Cursor) -> None:
        self.view.touch(cursor, event, status="deleted")

    @process_event.register
    def _(self, event: Session.ContentErased, cursor: Cursor) -> None:
        self.view.touch(cursor, event, title=ERASED, metadata={}, status="erased")
