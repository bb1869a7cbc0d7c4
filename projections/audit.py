"""The audit view: one row per event of every aggregate, who did what, when, under which ids.

Generic over the envelope every attributed event carries (tenant, actor,
correlation, causation and trace ids, time), so the events of aggregates added
later appear without code here. A row holds no content at all: only the
event's position in the log, its stream, version and short type, and the
envelope, so erasing a session's content never has to touch it. Events without
a tenant (none of chatledger's own) are not audited. Imports domain and
projections only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import InvalidInputError
from projections.base import Cursor, Projection
from projections.paging import Page

TOPIC_PREFIX = "chatledger."
SESSION_KIND = "Session"


@dataclass(frozen=True)
class AuditEntry:
    """One event as the audit trail shows it (no content)."""

    position: int
    """The event's notification id: its place in the whole log."""
    tenant_id: str
    stream_id: str
    """The aggregate whose stream holds the event."""
    version: int
    type: str
    """The short type, e.g. `Session.MessageAppended` (its first part is the stream's kind)."""
    actor: str
    recorded_at: datetime
    session_id: str | None = None
    """The session the event belongs to or names (None: it concerns no session)."""
    correlation_id: str | None = None
    causation_id: str | None = None
    trace_id: str | None = None

    @property
    def stream_kind(self) -> str:
        """The aggregate's kind: `Session`, `Agent`, …"""
        return self.type.split(".", 1)[0]


@dataclass(frozen=True)
class AuditQuery:
    """Which entries of one tenant, oldest first; `type` ending in `.` is a prefix."""

    tenant_id: str
    actor: str | None = None
    session_id: str | None = None
    type: str | None = None
    since: datetime | None = None
    """Entries recorded at or after this time."""
    until: datetime | None = None
    """Entries recorded before this time."""
    limit: int = 100
    cursor: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise InvalidInputError(name, "needs a UTC offset (Z or +HH:MM)")

    @property
    def type_prefix(self) -> str | None:
        """The prefix `type` asks for (`Session.`), or None for an exact type or none."""
        return self.type if self.type and self.type.endswith(".") else None


def short_type(topic: str) -> str:
    """`chatledger.Session.MessageAppended` -> `Session.MessageAppended`; `module:Cls` -> `Cls`."""
    if topic.startswith(TOPIC_PREFIX):
        return topic[len(TOPIC_PREFIX) :]
    return topic.rpartition(":")[2] or topic


_TYPES: dict[type, tuple[str, bool]] = {}
"""Each event class's short type, and whether its stream is a session's."""


def _short_type_of(cls: type) -> tuple[str, bool]:
    try:
        return _TYPES[cls]
    except KeyError:
        kind_and_name = short_type(get_topic(cls))
        found = _TYPES[cls] = (kind_and_name, kind_and_name.split(".", 1)[0] == SESSION_KIND)
        return found


def audit_entry(event: Any, position: int) -> AuditEntry | None:
    """The audit row of `event` recorded at `position`, or None for an event without tenant."""
    tenant_id = getattr(event, "tenant_id", None)
    if not isinstance(tenant_id, str):
        return None
    kind_and_name, of_session = _short_type_of(type(event))
    stream_id = str(event.originator_id)
    if of_session:
        session_id: str | None = stream_id
    else:
        session_id = _named_session(getattr(event, "session_id", None))
    return AuditEntry(
        position=position,
        tenant_id=tenant_id,
        stream_id=stream_id,
        version=event.originator_version,
        type=kind_and_name,
        actor=str(getattr(event, "actor", "") or ""),
        recorded_at=event.timestamp,
        session_id=session_id,
        correlation_id=getattr(event, "correlation_id", None),
        causation_id=getattr(event, "causation_id", None),
        trace_id=getattr(event, "trace_id", None),
    )


def _named_session(value: Any) -> str | None:
    if isinstance(value, UUID):
        return str(value)
    return value if isinstance(value, str) and value else None


class AuditView:
    """Rows of the audit trail; writes go through the caller's cursor."""

    @abstractmethod
    def add_entries(self, cursor: Cursor, entries: Sequence[AuditEntry]) -> None:
        """New entries, in order of position."""

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def list_entries(self, query: AuditQuery) -> Page[AuditEntry]:
        """One page of the tenant's entries matching `query`, by position."""

    def iter_entries(self, query: AuditQuery) -> Iterator[AuditEntry]:
        """Every entry matching `query` (from its cursor on), read a page at a time."""
        while True:
            page = self.list_entries(query)
            yield from page.data
            if page.next_cursor is None:
                return
            query = replace(query, cursor=page.next_cursor)


class AuditProjection(Projection[AuditView]):
    """Records every event of the log in the audit view."""

    name: ClassVar[str] = "audit"
    topics: ClassVar[tuple[str, ...]] = ()
    all_topics: ClassVar[bool] = True

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    def process_event(self, event: Any, cursor: Cursor) -> None:
        raise TypeError("the audit needs each event's position: call process_at")

    def process_at(self, event: Any, cursor: Cursor, position: int) -> None:
        entry = audit_entry(event, position)
        if entry is not None:
            self.view.add_entries(cursor, [entry])

    def process_batch(self, batch: Sequence[tuple[Any, int]], cursor: Cursor) -> None:
        entries = [audit_entry(event, position) for event, position in batch]
        self.view.add_entries(cursor, [entry for entry in entries if entry is not None])
