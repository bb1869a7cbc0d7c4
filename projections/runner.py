"""Keeps projections in step with the engine's notification log.

Three ways an event reaches a view, all exactly once: `apply_inline` inside the
transaction that records it (the in-process default), `catch_up` in batches
read from the log (start-up, a lagging view, a worker process), and `rebuild`
from the first event. Imports eventsourcing and projections only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import get_topic

from projections.base import Cursor, Projection, ViewStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called after each batch with the projection's position and the head of the log."""


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the head of the log."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ProjectionRunner:
    """Applies events to projections: inline, by catching up, or by rebuilding."""

    def __init__(
        self,
        app: Application[UUID],
        store: ViewStore,
        projections: Sequence[Projection[Any]],
        *,
        batch_size: int = 500,
    ) -> None:
        self.app = app
        self.store = store
        self.projections = {p.name: p for p in projections}
        self._names = tuple(self.projections)
        self.batch_size = batch_size
        self._topics = {p.name: None if p.all_topics else frozenset(p.topics) for p in projections}
        self._inline = threading.local()

    @property
    def names(self) -> tuple[str, ...]:
        """Every projection's name, in the order they are applied."""
        return self._names

    def apply_inline(
        self,
        cursor: Cursor,
        events: Sequence[Any],
        ids: Sequence[int],
        *,
        moved: set[str] | None = None,
    ) -> None:
        """Apply freshly recorded events in their own transaction, where views are current.

        A view that is behind (being rebuilt, or fed by a worker) is left alone:
        its position does not match, so `catch_up` will bring it these events.
        `moved`: those of `names` whose positions the recorder already moved with its insert.
        """
        self._inline.position = None
        if not ids:
            return
        if moved is None:
            moved = self.store.advance_positions(cursor, self._names, ids[0], ids[-1])
        event_topics = [get_topic(type(event)) for event in events]
        for name, projection in self.projections.items():
            if name not in moved:
                continue
            topics = self._topics[name]
            batch = [
                (event, position)
                for event, topic, position in zip(events, event_topics, ids, strict=True)
                if topics is None or topic in topics
            ]
            if len(batch) == 1:  # a single append: no batch to fold
                projection.process_at(batch[0][0], cursor, batch[0][1])
            elif batch:
                projection.process_batch(batch, cursor)
        if len(moved) == len(self.projections):
            self._inline.position = ids[-1]

    def applied_inline(self, position: int) -> bool:
        """True when this thread's last recording, at `position`, updated every view inline.

        Asked right after that recording committed, it answers read-your-writes
        without a query; anything else falls back to `is_current`.
        """
        return getattr(self._inline, "position", None) == position

    def catch_up(self, name: str | None = None) -> int:
        """Process everything recorded so far; returns the number of notifications read."""
        names = [name] if name else list(self.projections)
        return sum(self._catch_up_one(self._projection(n)) for n in names)

    def rebuild(self, name: str, *, on_progress: Progress | None = None) -> int:
        """Empty one view and rebuild it from the first event of the log.

        Readers see the view fill up batch by batch, unless it is `rebuilt_atomically`.
        """
        projection = self._projection(name)
        with self.store.transaction(commit=True) as cursor:
            position = self.store.get_position(cursor, name)
            projection.clear(cursor)
            self.store.move_position(cursor, name, position, 0)
            if projection.rebuilt_atomically:
                return self._apply_all(projection, cursor, on_progress)
        return self._catch_up_one(projection, on_progress)

    def _apply_all(
        self, projection: Projection[Any], cursor: Cursor, on_progress: Progress | None
    ) -> int:
        """Apply the whole log to an emptied view, in the caller's transaction.

        It reads the log in that transaction and holds the view's position, so inline
        writers wait for it, then apply their events on top."""
        head = self.store.max_notification_id(cursor)
        position = processed = 0
        while notifications := self.store.select_notifications(
            cursor, position, head, self.batch_size
        ):
            self._apply(projection, cursor, notifications)
            processed += len(notifications)
            position = notifications[-1].id
            if on_progress is not None:
                on_progress(position, head)
        self.store.move_position(cursor, projection.name, 0, head)
        return processed

    def status(self) -> list[ProjectionStatus]:
        """Each projection's position, the head of the log, and so the lag."""
        with self.store.transaction(commit=False) as cursor:
            head = self.store.max_notification_id(cursor)
            return [
                ProjectionStatus(name, self.store.get_position(cursor, name), head)
                for name in self.projections
            ]

    def is_current(self, position: int) -> bool:
        """True when every projection has processed the notification `position`."""
        with self.store.transaction(commit=False) as cursor:
            return all(self.store.get_position(cursor, n) >= position for n in self.projections)

    def wait_for(self, position: int, *, timeout: float) -> bool:
        """Wait (polling briefly) until every projection has reached `position`."""
        deadline = time.monotonic() + timeout
        delay = 0.001
        while not self.is_current(position):
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def run_forever(
        self, stop: threading.Event, *, interval: float = 0.1, max_backoff: float = 5.0
    ) -> None:
        """Tail the log until `stop` is set (the body of a projection worker).

        A database that goes away is waited for, with growing pauses up to
        `max_backoff`; any other error stops the worker (a poison event must be seen).
        """
        backoff = interval
        while not stop.is_set():
            try:
                processed = self.catch_up()
            except (OperationalError, InterfaceError) as error:
                log.warning("projection worker: database unavailable (%s); retrying", error)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            backoff = interval
            if processed == 0:
                stop.wait(interval)

    def _projection(self, name: str) -> Projection[Any]:
        try:
            return self.projections[name]
        except KeyError:
            known = ", ".join(sorted(self.projections))
            raise KeyError(f"unknown projection {name!r} (known: {known})") from None

    def _apply(
        self, projection: Projection[Any], cursor: Cursor, notifications: Sequence[Any]
    ) -> None:
        """Apply the notifications of the projection's topics, in the caller's transaction."""
        topics = self._topics[projection.name]
        to_domain_event = self.app.mapper.to_domain_event
        batch = [
            (to_domain_event(notification), notification.id)
            for notification in notifications
            if topics is None or notification.topic in topics
        ]
        if batch:
            projection.process_batch(batch, cursor)

    def _catch_up_one(
        self, projection: Projection[Any], on_progress: Progress | None = None
    ) -> int:
        processed = 0
        head = 0
        while True:
            with self.store.transaction(commit=False) as cursor:
                position = self.store.get_position(cursor, projection.name)
            notifications = self.app.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return processed
            with self.store.transaction(commit=True) as cursor:
                if not self.store.move_position(
                    cursor, projection.name, position, notifications[-1].id
                ):
                    continue  # someone else moved it: read the position again
                self._apply(projection, cursor, notifications)
                if on_progress is not None:
                    head = max(head, self.store.max_notification_id(cursor))
            processed += len(notifications)
            if on_progress is not None:
                on_progress(notifications[-1].id, head)
