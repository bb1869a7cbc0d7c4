"""Loading an aggregate in one read: its latest snapshot and the events after it together.

The library's repository reads the newest snapshot at or below the version asked for,
then the events after it: two statements, and on PostgreSQL two round trips, for every
session loaded outside the cache and every look at a past version. A recorder that can
read both in one statement (`SnapshotReads`) lets `OneReadRepository` do it in one; it
is also one consistent view of the store, where two statements could straddle a write.
Recorders without it get the library's two reads. A mapper that offers `to_state_event`
gives the events as the aggregate needs them: an event whose `apply` reads none of its
sealed content (`applies_without_content`: a message, a completion) is not decrypted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProjectorFunction, Repository
from eventsourcing.persistence import StoredEvent


@runtime_checkable
class SnapshotReads(Protocol):
    """An events recorder that also reads the newest snapshot, from the snapshots'
    recorder's table, in the same statement."""

    def select_from_snapshot(
        self, originator_id: UUID, snapshots: Any, *, lte: int | None
    ) -> tuple[StoredEvent | None, Sequence[StoredEvent]]:
        """The newest snapshot at or below `lte` (None: any) in `snapshots`' table, if
        any, and the events after it up to `lte`, oldest first."""
        ...


class OneReadRepository(Repository[UUID]):
    """The library's repository, reconstructing aggregates with one read when it can."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recorder = self.event_store.recorder
        self._reads = (
            recorder
            if self.snapshot_store is not None and isinstance(recorder, SnapshotReads)
            else None
        )
        mapper = self.event_store.mapper
        # A mapper may offer the events as the aggregate needs them (content it does not
        # read left sealed); else the whole events.
        self._to_event = getattr(mapper, "to_state_event", mapper.to_domain_event)

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
    ) -> Any:
        snapshots = self.snapshot_store
        if self._reads is None or snapshots is None:
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        snapshot, stored = self._reads.select_from_snapshot(
            aggregate_id, snapshots.recorder, lte=version
        )
        events = [snapshots.mapper.to_domain_event(snapshot)] if snapshot else []
        events += [self._to_event(event) for event in stored]
        aggregate = projector_func(None, events)
        if aggregate is None:
            msg = f"Aggregate {aggregate_id!r} version {version!r} not found."
            raise AggregateNotFoundError(msg)
        return aggregate
