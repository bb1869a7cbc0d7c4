"""The history: every message of every session, in order, for reading and paging.

A message row is keyed by its session and the version of the event that
appended it. Clearing the history does not delete rows: queries read the
messages after the session's last clear, and time travel reads those up to a
version. Imports domain and projections only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.message import Message
from domain.session import Session
from projections.base import Cursor, Projection
from projections.paging import Page


@dataclass(frozen=True)
class HistoryEntry:
    """One message as recorded: the message, its version and time, who appended it."""

    session_id: str
    version: int
    message: Message
    created_at: datetime
    actor: str


@dataclass(frozen=True)
class HistoryQuery:
    """Which messages of one session: a version window, paged by cursor or offset."""

    tenant_id: str
    session_id: str
    after_version: int = 0
    """Messages recorded after this version (the session's last clear)."""
    until_version: int | None = None
    """Up to and including this version (time travel); None for all."""
    limit: int | None = 100
    cursor: str | None = None
    offset: int | None = None
    order: Literal["asc", "desc"] = "asc"


class HistoryView:
    """Rows of the message history; writes go through the caller's cursor."""

    @abstractmethod
    def add_message(self, cursor: Cursor, event: Session.MessageAppended) -> None: ...

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def list_messages(self, query: HistoryQuery) -> Page[HistoryEntry]: ...


class HistoryProjection(Projection[HistoryView]):
    """Keeps the history in step with `MessageAppended` events."""

    name: ClassVar[str] = "history"
    topics: ClassVar[tuple[str, ...]] = (get_topic(Session.MessageAppended),)

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Other events do not change the rows."""

    @process_event.register
    def _(self, event: Session.MessageAppended, cursor: Cursor) -> None:
        self.view.add_message(cursor, event)
