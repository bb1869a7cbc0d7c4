"""The history: every message of every session, in order, for reading and paging.

A message row is keyed by its session, the version of the event that brought
it, and a sequence within that event: a message appended by the session has
sequence 0; the messages a fork or merge inherits all arrive with its first
event (version 1) in sequence, each keeping its origin (the session and version
that first recorded it). Erasing a session, or redacting a message, replaces
the content of the rows it first recorded, copies included, by placeholders.
Clearing the history does not delete rows: queries
read the messages after the session's last clear, and time travel those up to
a version. Imports domain and projections only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from typing import Any, ClassVar, Literal

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.message import Message
from domain.sealing import ERASED, REDACTED, with_placeholders
from domain.session import MESSAGE_SEALED, Session
from projections.base import Cursor, Projection
from projections.paging import Page

PARSED_CACHE_SIZE = 4096
"""Messages kept parsed, by their JSON text (see `parse_message`)."""
PARSED_MAX_LENGTH = 16 * 1024
"""Messages of longer JSON text (characters, or bytes) are parsed every time, so the
cache holds at most 4,096 texts of up to 16,384 characters and their messages."""


def parse_message(raw: str | bytes) -> Message:
    """The message whose JSON text (as the history stores it) is `raw`.

    A chat turn recalls the whole history, so each turn parsed every earlier message
    again. Parsed messages are kept by their text, least recently used first out: a
    message whose content a redaction or erasure replaced has other text, so a message
    is never served stale. Messages are immutable, so callers can share them.
    """
    if len(raw) > PARSED_MAX_LENGTH:
        return Message.model_validate_json(raw)
    return _parse_cached(raw)


@lru_cache(maxsize=PARSED_CACHE_SIZE)
def _parse_cached(raw: str | bytes) -> Message:
    return Message.model_validate_json(raw)


class HistoryEntry:
    """One message as recorded: the message, its version and time, who appended it.

    Views may hand the message over as its JSON text and the time as ISO text; both are
    parsed on first use. An entry read from a view keeps the view's row as it came
    (`from_row`), so reading a long history costs little more than the query itself.
    """

    __slots__ = ("_message", "_row", "_time", "session_id")
    _message: Message | None
    _row: tuple[Any, ...]
    _time: datetime | None
    session_id: str

    ROW: ClassVar[tuple[str, ...]] = (
        "version",
        "seq",
        "raw",
        "actor",
        "created_at",
        "origin_session_id",
        "origin_version",
    )
    """The fields of a view's row, in order (`from_row`)."""

    def __init__(
        self,
        session_id: str,
        version: int,
        message: Message | None = None,
        created_at: datetime | str | None = None,
        actor: str = "",
        seq: int = 0,
        origin_session_id: str | None = None,
        origin_version: int | None = None,
        *,
        raw: str | bytes | None = None,
    ) -> None:
        if message is None and raw is None:
            raise ValueError("a history entry needs its message or the message's JSON")
        if created_at is None:
            raise ValueError("a history entry needs its time")
        self.session_id = session_id
        self._row = (version, seq, raw, actor, created_at, origin_session_id, origin_version)
        self._message = message
        self._time = None

    @classmethod
    def from_row(cls, session_id: str, row: tuple[Any, ...]) -> HistoryEntry:
        """An entry over a view's row, its fields in the order of `ROW`."""
        entry = cls.__new__(cls)
        entry.session_id = session_id
        entry._row = row
        entry._message = entry._time = None  # unset slots would make first use raise
        return entry

    @property
    def version(self) -> int:
        value: int = self._row[0]
        return value

    @property
    def seq(self) -> int:
        """Order within the event that brought it (inherited messages: 1, 2, …)."""
        value: int = self._row[1]
        return value

    @property
    def actor(self) -> str:
        value: str = self._row[3]
        return value

    @property
    def origin_session_id(self) -> str | None:
        """Where an inherited message was first recorded (None: in this session)."""
        value: str | None = self._row[5]
        return value

    @property
    def origin_version(self) -> int | None:
        value: int | None = self._row[6]
        return value

    @classmethod
    def appended(cls, event: Session.MessageAppended) -> HistoryEntry:
        """The message as its `MessageAppended` event recorded it."""
        return cls(
            session_id=str(event.originator_id),
            version=event.originator_version,
            message=event.message,
            created_at=event.timestamp,
            actor=event.actor,
        )

    @property
    def created_at(self) -> datetime:
        """When it was recorded (views may hand it over as ISO text: parsed on first use)."""
        time = self._time
        if time is None:
            value = self._row[4]
            time = self._time = datetime.fromisoformat(value) if isinstance(value, str) else value
        return time

    @property
    def message(self) -> Message:
        message = self._message
        if message is None:
            message = self._message = parse_message(self._row[2])
        return message

    def replace(self, **changes: Any) -> HistoryEntry:
        """A copy with some fields changed."""
        fields = {name: getattr(self, name) for name in self._fields()} | changes
        return HistoryEntry(**fields)

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return (
            "session_id",
            "version",
            "message",
            "created_at",
            "actor",
            "seq",
            "origin_session_id",
            "origin_version",
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HistoryEntry):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields())

    def __hash__(self) -> int:
        return hash((self.session_id, self.version, self.seq))

    def __repr__(self) -> str:
        return f"HistoryEntry({self.session_id!r}, version={self.version}, seq={self.seq})"


@dataclass(frozen=True)
class HistoryQuery:
    """Which messages of one session: a version window, paged by cursor or offset."""

    tenant_id: str
    session_id: str
    after_version: int | None = 0
    """Messages recorded after this version (the session's last clear). None: after the
    last clear the view itself recorded; a view that holds no live session by this id for
    this tenant then raises `SessionNotInViewError`, and the caller asks the engine."""
    until_version: int | None = None
    """Up to and including this version (time travel); None for all."""
    limit: int | None = 100
    cursor: str | None = None
    offset: int | None = None
    order: Literal["asc", "desc"] = "asc"


class SessionNotInViewError(LookupError):
    """The view holds no live session by this id for this tenant (unknown, another tenant's,
    deleted, or recorded before the view kept sessions): the engine knows which."""


class HistoryView:
    """Rows of the message history; writes go through the caller's cursor.

    Beside the messages the view keeps each live session's tenant and last clear, so a
    page is read, and its owner checked, in one transaction of the view alone.
    """

    @abstractmethod
    def start_session(self, cursor: Cursor, event: Session.Created) -> None:
        """A new session (created, forked or merged): live, with nothing cleared yet."""

    @abstractmethod
    def move_window(self, cursor: Cursor, session_id: str, after_version: int) -> None:
        """The session's history was cleared at `after_version`."""

    @abstractmethod
    def end_session(self, cursor: Cursor, session_id: str) -> None:
        """The session was deleted (or erased): its pages are the engine's to refuse."""

    @abstractmethod
    def add_messages(self, cursor: Cursor, events: Sequence[Session.MessageAppended]) -> None:
        """Messages appended by their sessions, in order."""

    @abstractmethod
    def inherit(
        self,
        cursor: Cursor,
        event: Session.Forked | Session.Merged,
        sources: list[tuple[str, int, int]],
        *,
        interleave: bool,
    ) -> None:
        """Give a new fork or merge target its sources' messages.

        `sources` are (session id, after version, up to version) windows, in order;
        `interleave` orders all of them by time instead of source by source.
        """

    @abstractmethod
    def scrub(self, cursor: Cursor, session_id: str, mark: str, message_id: str | None) -> None:
        """Replace the content of the messages first recorded in `session_id` (all, or the
        one with `message_id`), wherever a fork or merge copied them, by placeholders."""

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def list_messages(self, query: HistoryQuery) -> Page[HistoryEntry]: ...

    @abstractmethod
    def get_message_origin(self, tenant_id: str, session_id: str, message_id: str) -> str | None:
        """The session that first recorded a message of this session's history, or None."""


def placeholder_message(message: dict[str, Any], mark: str) -> dict[str, Any]:
    """A message's JSON (as the history stores it) with its content replaced by `mark`.

    The same placeholders the store gives a message whose key is gone, so scrubbing a
    view and rebuilding it from the log agree.
    """
    state = {"message": dict(message)}
    with_placeholders(state, MESSAGE_SEALED, mark)
    return Message.model_validate(state["message"]).model_dump(mode="json", exclude_none=True)


class HistoryProjection(Projection[HistoryView]):
    """Keeps the history in step with `MessageAppended` events."""

    name: ClassVar[str] = "history"
    topics: ClassVar[tuple[str, ...]] = tuple(
        get_topic(c)
        for c in (
            Session.Created,
            Session.MessageAppended,
            Session.Forked,
            Session.Merged,
            Session.HistoryCleared,
            Session.Deleted,
            Session.ContentErased,
            Session.MessageRedacted,
        )
    )

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    def process_batch(self, batch: Sequence[tuple[Any, int]], cursor: Cursor) -> None:
        """Each run of `MessageAppended` events goes to the view in one statement."""
        for appended, run in groupby(batch, key=_is_appended):
            if appended:
                self.view.add_messages(cursor, [event for event, _ in run])
            else:
                for event, position in run:
                    self.process_at(event, cursor, position)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Other events do not change the rows."""

    @process_event.register
    def _(self, event: Session.Created, cursor: Cursor) -> None:
        self.view.start_session(cursor, event)

    @process_event.register
    def _(self, event: Session.MessageAppended, cursor: Cursor) -> None:
        self.view.add_messages(cursor, [event])

    @process_event.register
    def _(self, event: Session.Forked, cursor: Cursor) -> None:
        self.view.start_session(cursor, event)
        window = (event.source_id, event.source_cleared_at_version, event.source_version)
        self.view.inherit(cursor, event, [window], interleave=False)

    @process_event.register
    def _(self, event: Session.HistoryCleared, cursor: Cursor) -> None:
        self.view.move_window(cursor, str(event.originator_id), event.originator_version)

    @process_event.register
    def _(self, event: Session.Deleted, cursor: Cursor) -> None:
        self.view.end_session(cursor, str(event.originator_id))

    @process_event.register
    def _(self, event: Session.ContentErased, cursor: Cursor) -> None:
        self.view.scrub(cursor, str(event.originator_id), ERASED, None)
        self.view.end_session(cursor, str(event.originator_id))

    @process_event.register
    def _(self, event: Session.MessageRedacted, cursor: Cursor) -> None:
        self.view.scrub(cursor, str(event.originator_id), REDACTED, event.message_id)

    @process_event.register
    def _(self, event: Session.Merged, cursor: Cursor) -> None:
        self.view.start_session(cursor, event)
        windows = [(s.session_id, s.cleared_at_version, s.version) for s in event.sources]
        self.view.inherit(cursor, event, windows, interleave=event.policy == "interleave")


def _is_appended(item: tuple[Any, int]) -> bool:
    return isinstance(item[0], Session.MessageAppended)
