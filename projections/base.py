"""What every projection and view store shares: positions, batches, transactions.

A projection turns events into rows of its view. Its rows and its position in
the application's notification log are written in one transaction, so every
event takes effect exactly once, whether the batch comes from a worker tailing
the log or inline, inside the very transaction that records the events. The
position moves by compare-and-set: a writer that finds it moved by someone else
writes nothing. Imports the standard library and the event store's notification type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from functools import singledispatchmethod
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from eventsourcing.persistence import Notification


class Cursor(Protocol):
    """The DB-API subset views use; rows are mappings by column name."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, sql: Any, params_seq: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


class ViewStore(ABC):
    """A database that holds views and the positions of their projections."""

    @abstractmethod
    def transaction(self, *, commit: bool) -> AbstractContextManager[Cursor]:
        """One transaction; rolled back on error or when `commit` is false."""

    @abstractmethod
    def get_position(self, cursor: Cursor, name: str) -> int:
        """The last notification id the named projection has processed (0: none)."""

    @abstractmethod
    def move_position(self, cursor: Cursor, name: str, expected: int, new: int) -> bool:
        """Compare-and-set the position; False (nothing written) if it is not `expected`."""

    @abstractmethod
    def advance_positions(
        self, cursor: Cursor, names: Sequence[str], first: int, last: int
    ) -> set[str]:
        """Move to `last` every named position that stands just before `first`.

        "Just before" is the largest notification id below `first` (0 if none): those
        projections have processed everything up to the new notifications `first`..`last`.
        One compare-and-set for them all; returns the names that moved.
        """

    @abstractmethod
    def max_notification_id(self, cursor: Cursor) -> int:
        """The largest notification id in the log (0 if empty)."""

    @abstractmethod
    def select_notifications(
        self, cursor: Cursor, after: int, until: int, limit: int
    ) -> list[Notification]:
        """Up to `limit` notifications in (`after`, `until`], read in the caller's
        transaction."""


TView = TypeVar("TView")


class Projection(ABC, Generic[TView]):
    """Turns events into view rows, one handler per event type."""

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    all_topics: ClassVar[bool] = False
    """True for a projection of every event in the log, whatever its topic (`topics` unused)."""
    rebuilt_atomically: ClassVar[bool] = False
    """True for a small view that must never be seen half-built (the API keys, which say
    whether authentication is in force): its rebuild is one transaction, so writers wait."""

    def __init__(self, view: TView) -> None:
        self.view = view
        self._handlers: dict[type, Callable[[Any, Cursor], None]] = {}

    def process_at(self, event: Any, cursor: Cursor, position: int) -> None:
        """Apply one event recorded at log `position`; views that keep positions override it."""
        cls = type(event)
        try:
            handler = self._handlers[cls]
        except KeyError:
            handler = self._handlers[cls] = self._handler(cls)
        handler(event, cursor)

    def process_batch(self, batch: Sequence[tuple[Any, int]], cursor: Cursor) -> None:
        """Apply events recorded together, each with its log position, in order.

        One event at a time here; views that can write a run of events in fewer statements
        (one `executemany`, one update for many messages) override it, to the same rows.
        """
        for event, position in batch:
            self.process_at(event, cursor, position)

    def _handler(self, event_type: type) -> Callable[[Any, Cursor], None]:
        """`process_event` for events of `event_type`, bound to this projection.

        A `singledispatchmethod` finds the handler, and wraps it in a new function, on
        every call; the handler of a type is found once here instead (the registrations
        are all made when the class is defined).
        """
        for klass in type(self).__mro__:
            method = vars(klass).get("process_event")
            if method is not None:
                break
        if isinstance(method, singledispatchmethod):
            method.__get__(self, type(self))  # makes the registrations it deferred, if any
            found: Callable[..., None] = method.dispatcher.dispatch(event_type)
            bound: Callable[[Any, Cursor], None] = found.__get__(self, type(self))
            return bound
        return self.process_event

    @abstractmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Apply one event to the view through `cursor` (in the caller's transaction)."""

    @abstractmethod
    def clear(self, cursor: Cursor) -> None:
        """Delete every row of the view (before a rebuild)."""
