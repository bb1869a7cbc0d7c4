"""The engine: one method per command on sessions, and the event-sourced queries.

`Engine` is an eventsourcing `Application` constructible from `env` alone. A
command loads the session (snapshot plus a few events, or the cache), decides,
and records its events in one transaction; it never replays a whole stream.
Without an expected version, a command that loses a race is re-decided on the
fresh state; with one, the race is the caller's `VersionConflictError`.
Queries here read the event store (state as of a version or time, the event
stream); histories and lists are served by the projections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import strtobool

from domain.agent_commands import AgentCommands
from domain.base import project_events
from domain.branching import BranchCommands
from domain.context import CommandContext
from domain.erasure import ErasureCommands
from domain.errors import (
    EmptyMessageError,
    EngineError,
    InvalidVersionError,
    LimitExceededError,
    MessageTooLargeError,
    SessionDeletedError,
    SessionNotFoundError,
    VersionConflictError,
)
from domain.message import Message
from domain.repository import OneReadRepository
from domain.session import PatchMode, Session, SessionState
from domain.turns import TurnCommands
from domain.validation import check_json, check_object, check_text

_RACE_ATTEMPTS = 50


class CommandResult:
    """What a command recorded: the new state, its events, and their log position.

    The state is made on first use of `session` (callers that want only the events or
    the position, such as an ingest, never pay for it), from the session's attributes
    as they were when the command recorded: the aggregate itself goes back to the cache,
    where another thread may bring it further, but its events replace attributes and
    never change them in place, so a shallow copy keeps this version.
    """

    __slots__ = ("_session", "_source", "events", "position")

    events: tuple[Session.Event, ...]
    position: int | None
    """Notification id of the last event recorded (None when nothing changed)."""

    def __init__(
        self,
        *,
        session: SessionState | Session,
        events: tuple[Session.Event, ...],
        position: int | None,
    ) -> None:
        self._session: SessionState | None = None
        self._source: Session | None = None
        if isinstance(session, SessionState):
            self._session = session
        else:
            self._source = session.shallow_copy()
        self.events = events
        self.position = position

    @property
    def session(self) -> SessionState:
        """The session as this command left it."""
        state = self._session
        if state is None:
            assert self._source is not None
            state = self._session = SessionState.of(self._source)
        return state

    def __repr__(self) -> str:
        return f"CommandResult(events={len(self.events)}, position={self.position})"


@dataclass(frozen=True)
class SessionUpdate:
    """Fields to change; `None` leaves a field as it is."""

    title: str | None = None
    situation: str | None = None
    metadata: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


def append_new(ctx: CommandContext, session: Session, messages: Sequence[Message]) -> None:
    """Append checked messages to the session, each with a new id."""
    for message in messages:
        session.append_message(ctx, message.model_copy(update={"id": uuid4().hex}))


class Engine(AgentCommands, TurnCommands, BranchCommands, ErasureCommands, Application[UUID]):
    """Commands and event-sourced queries on sessions (and, mixed in, agents)."""

    name = "chatledger"
    snapshotting_intervals = {Session: 20}  # noqa: RUF012 (the library reads a class attribute)
    env = {  # noqa: RUF012
        "AGGREGATE_CACHE_MAXSIZE": "10000",
        "MAX_MESSAGE_BYTES": str(1024 * 1024),
        "MAX_BATCH_MESSAGES": "1000",
    }

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.max_message_bytes = int(self.env.get("MAX_MESSAGE_BYTES") or 0)
        self.max_batch_messages = int(self.env.get("MAX_BATCH_MESSAGES") or 0)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, configured as the library does, loading sessions in
        one read (`domain.repository`)."""
        env = self.env
        cache_maxsize = env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return OneReadRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(cache_maxsize) if cache_maxsize else None,
            fastforward=strtobool(env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    # Commands

    def create_session(
        self,
        ctx: CommandContext,
        *,
        title: str = "",
        user_id: str | None = None,
        agent_id: str | None = None,
        situation: str = "",
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        render_templates: bool = False,
        session_id: UUID | None = None,
        messages: Sequence[Message] = (),
    ) -> CommandResult:
        """Start a session with its whole initial state.

        `messages`, when given, are its first messages (each with a new id), recorded with
        `Created` in one transaction: the session never exists without them.
        """
        checked = self.checked_messages(messages) if messages else []
        check_text(title, "title")
        check_text(situation, "situation")
        for name, value in (("user_id", user_id), ("agent_id", agent_id)):
            if value is not None:
                check_text(value, name)
        session = Session.create(
            ctx,
            title=title,
            user_id=user_id,
            agent_id=agent_id,
            situation=situation,
            context=check_object(context or {}, "context"),
            metadata=check_object(metadata or {}, "metadata"),
            render_templates=render_templates,
            session_id=session_id,
        )
        append_new(ctx, session, checked)
        try:
            return self._record_changes(session)
        except IntegrityError:  # the id is taken (or a view holds rows under it)
            raise VersionConflictError(session.id, expected=0, actual=None) from None

    def append_messages(
        self,
        ctx: CommandContext,
        session_id: UUID,
        messages: Sequence[Message],
        *,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Append messages to the history, atomically, each with a new id."""
        checked = self.checked_messages(messages)

        def decide(session: Session) -> None:
            append_new(ctx, session, checked)

        return self._change(ctx, session_id, decide, expected_version=expected_version)

    def update_session(
        self,
        ctx: CommandContext,
        session_id: UUID,
        update: SessionUpdate,
        *,
        mode: PatchMode = "merge",
        expected_version: int | None = None,
    ) -> CommandResult:
        """PATCH (`merge`) or PUT (`overwrite`) the editable fields.

        With `overwrite`, fields left `None` are reset to their defaults.
        """
        if mode == "overwrite":
            update = SessionUpdate(
                title=update.title or "",
                situation=update.situation or "",
                metadata=update.metadata or {},
                context=update.context or {},
            )
        if update.title is not None:
            check_text(update.title, "title")
        if update.situation is not None:
            check_text(update.situation, "situation")
        metadata = None if update.metadata is None else check_object(update.metadata, "metadata")
        context = None if update.context is None else check_object(update.context, "context")

        def decide(session: Session) -> None:
            if update.title is not None:
                session.change_title(ctx, update.title)
            if update.situation is not None:
                session.update_situation(ctx, update.situation)
            if metadata is not None:
                session.update_metadata(ctx, metadata, mode)
            if context is not None:
                session.update_context(ctx, context, mode)

        return self._change(ctx, session_id, decide, expected_version=expected_version)

    def clear_history(
        self, ctx: CommandContext, session_id: UUID, *, expected_version: int | None = None
    ) -> CommandResult:
        """Empty the model-facing history; the log keeps every message."""
        return self._change(
            ctx, session_id, lambda s: s.clear_history(ctx), expected_version=expected_version
        )

    def delete_session(
        self, ctx: CommandContext, session_id: UUID, *, expected_version: int | None = None
    ) -> CommandResult:
        """Soft delete: hidden from lists and chat, kept in the log."""
        return self._change(
            ctx, session_id, lambda s: s.delete(ctx), expected_version=expected_version
        )

    # Queries

    def get_session(self, tenant_id: str, session_id: UUID) -> SessionState:
        """The session now; a deleted one is `SessionDeletedError`."""
        session = self._load(tenant_id, session_id)
        if session.is_deleted:
            raise SessionDeletedError(session_id)
        return SessionState.of(session)

    def get_history_window(self, tenant_id: str, session_id: UUID) -> int:
        """The version after which the session's model-facing history starts (its last
        clear); a deleted session is `SessionDeletedError`.

        Cheaper than `get_session` for reads that need only this: the cached session is
        brought up to date but neither copied nor turned into a `SessionState`.
        """
        session = self._load(tenant_id, session_id, copy=False)
        if session.is_deleted:
            raise SessionDeletedError(session_id)
        return session.cleared_at_version

    def get_state(
        self,
        tenant_id: str,
        session_id: UUID,
        *,
        version: int | None = None,
        at: datetime | None = None,
    ) -> SessionState:
        """The session as it was at a version or a time (deleted sessions included)."""
        if version is not None and at is None and version >= 1:
            return SessionState.of(self._load_at(tenant_id, session_id, version))
        head = self._load(tenant_id, session_id)
        if at is not None:
            version = self._version_at(session_id, head.version, at)
        if version is None or version == head.version:
            return SessionState.of(head)
        if not 1 <= version <= head.version:
            raise InvalidVersionError(
                "version", f"must be between 1 and {head.version}, got {version}"
            )
        session: Session = self.repository.get(
            session_id, version=version, projector_func=project_events
        )
        return SessionState.of(session)

    def list_events(
        self,
        tenant_id: str,
        session_id: UUID,
        *,
        after: int = 0,
        limit: int | None = None,
        until: int | None = None,
    ) -> list[Session.Event]:
        """The session's events with versions in (`after`, `until`], oldest first."""
        self._load(tenant_id, session_id)
        events: Iterator[Session.Event] = self.events.get(  # type: ignore[assignment]
            session_id, gt=after, lte=until, limit=limit
        )
        return list(events)

    # Internals

    def _load(self, tenant_id: str, session_id: UUID, *, copy: bool = True) -> Session:
        """The session now; `copy=False` (reads that change nothing) skips copying it out
        of the cache."""
        try:
            session: Session = self.repository.get(
                session_id, deepcopy_from_cache=copy, projector_func=project_events
            )
        except AggregateNotFoundError:
            raise SessionNotFoundError(session_id) from None
        if not isinstance(session, Session) or session.tenant_id != tenant_id:
            raise SessionNotFoundError(session_id)
        return session

    def _load_at(self, tenant_id: str, session_id: UUID, version: int) -> Session:
        """The session at `version` (snapshot and events up to it), without loading its head:
        a stream that ends before `version` gives its head, which says how far it goes."""
        try:
            session: Session = self.repository.get(
                session_id, version=version, projector_func=project_events
            )
        except AggregateNotFoundError:
            raise SessionNotFoundError(session_id) from None
        if not isinstance(session, Session) or session.tenant_id != tenant_id:
            raise SessionNotFoundError(session_id)
        if session.version != version:
            raise InvalidVersionError(
                "version", f"must be between 1 and {session.version}, got {version}"
            )
        return session

    def _change(
        self,
        ctx: CommandContext,
        session_id: UUID,
        decide: Callable[[Session], None],
        *,
        expected_version: int | None,
    ) -> CommandResult:
        for attempt in range(_RACE_ATTEMPTS):
            # The first attempt decides on the session as this process last saw it (the
            # cache), without asking the store for newer events: should another process
            # have written since, recording fails on the (session, version) key and the
            # next attempt loads the fresh state. A decision the store does not check (one
            # that records nothing, or refuses) is only ever taken on the fresh state.
            cached = self._cached(ctx.tenant_id, session_id) if attempt == 0 else None
            session = cached or self._load(ctx.tenant_id, session_id)
            if expected_version is not None and session.version != expected_version:
                if cached:
                    continue
                raise VersionConflictError(
                    session_id, expected=expected_version, actual=session.version
                )
            try:
                decide(session)
            except EngineError:
                if cached:
                    continue
                raise
            if cached and not session.pending_events:
                continue
            try:
                return self._record_changes(session)
            except IntegrityError:
                if expected_version is not None:
                    raise VersionConflictError(
                        session_id, expected=expected_version, actual=None
                    ) from None
        raise VersionConflictError(session_id, expected=-1, actual=None)

    def _cached(self, tenant_id: str, session_id: UUID) -> Session | None:
        """A copy of the session as cached (not fast-forwarded); None when not cached."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            cached = cache.get(session_id)
        except KeyError:
            return None
        if not isinstance(cached, Session) or cached.tenant_id != tenant_id:
            return None
        copied: Session = deepcopy(cached)
        return copied

    def _record_changes(self, session: Session) -> CommandResult:
        events = tuple(session.pending_events)
        recordings: list[Recording[UUID]] = self._save_session(session) if events else []
        result = CommandResult(
            session=session,  # copied before the cache shares it with other threads
            events=events,  # type: ignore[arg-type]
            position=recordings[-1].notification.id if recordings else None,
        )
        if recordings and self.repository.cache is not None:
            # The next command finds this version in the cache; fast-forwarding (which stays
            # on, for other processes' writes) then reads nothing new.
            self.repository.cache.put(session.id, session)
        return result

    def _save_session(self, session: Session) -> list[Recording[UUID]]:
        """`Application.save(session)`, without its runtime protocol checks of the argument.

        `save` asks whether its argument is a domain event, then whether it collects
        events, through `typing.Protocol` isinstance checks (tens of microseconds each).
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(session.collect_events())
        processing_event.aggregates[session.id] = session
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot the aggregates just saved at each of their new versions that is a
        multiple of the interval, in one write.

        The library would rebuild each one from the stream to the snapshot's version. The
        saved aggregate is at its newest version; a state in between comes from replaying
        the write's own events onto the aggregate as it was before the write (the cache's,
        or none for a write that creates it), so a bulk write is snapshotted every
        interval too, not only at its end. Without that earlier state at hand, the newest
        state is the one snapshot, as before.
        """
        if self.snapshots is None:
            return
        taken: list[Any] = []
        for aggregate in processing_event.aggregates.values():
            interval = self.snapshotting_intervals.get(type(aggregate))
            snapshot_class = getattr(type(aggregate), "Snapshot", None)
            if not interval or snapshot_class is None:
                continue
            events = [e for e in processing_event.events if e.originator_id == aggregate.id]
            due = {e.originator_version for e in events if e.originator_version % interval == 0}
            if due:
                taken += [
                    snapshot_class.take(state) for state in self._states_at(aggregate, events, due)
                ]
        if taken:
            self.snapshots.put(taken)

    def _states_at(self, aggregate: Any, events: list[Any], versions: set[int]) -> list[Any]:
        """The aggregate at each of `versions` (versions of `events`, the write's own), or
        just the aggregate as saved when its state before the write is not at hand."""
        last = events[-1].originator_version
        if versions == {last}:
            return [aggregate]
        first = events[0].originator_version
        state: Any = None
        if first != 1:
            state = self._cached(aggregate.tenant_id, aggregate.id)  # a copy, if cached
            if state is None or state.version != first - 1:
                return [aggregate]
        states: list[Any] = []
        for event in events[:-1]:
            state = event.mutate(state)
            if event.originator_version in versions:
                states.append(state)
                state = deepcopy(state)
        if last in versions:
            states.append(aggregate)
        return states

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Recorders that update views in the same transaction need the domain events.
        processing_event.saved_kwargs.setdefault("recorded_events", processing_event.events)
        return super()._record(processing_event)

    def checked_messages(self, messages: Sequence[Message]) -> list[Message]:
        """`messages`, refused when empty, too many, or one of them invalid or too large."""
        if not messages:
            raise EmptyMessageError("messages")
        if self.max_batch_messages and len(messages) > self.max_batch_messages:
            raise LimitExceededError(
                "messages",
                f"{len(messages)} messages in one request, the limit is {self.max_batch_messages}",
            )
        return [self.checked_message(m, f"messages[{i}]") for i, m in enumerate(messages)]

    def checked_message(self, message: Message, field: str) -> Message:
        """`message`, refused when empty, not storable JSON, or over `max_message_bytes`."""
        if not message.content:
            raise EmptyMessageError(f"{field}.content")
        payload = message.model_dump(mode="python", exclude_none=True)
        check_json(payload, field)
        if self.max_message_bytes:
            size = len(message.model_dump_json(exclude_none=True).encode())
            if size > self.max_message_bytes:
                raise MessageTooLargeError(field, size, self.max_message_bytes)
        return message

    def _version_at(self, session_id: UUID, head_version: int, at: datetime) -> int:
        """The last version recorded at or before `at` (timestamps rise with versions)."""
        low, high = 0, head_version
        while low < high:
            middle = (low + high + 1) // 2
            event: Session.Event = next(
                iter(self.events.get(session_id, gt=middle - 1, lte=middle))
            )  # type: ignore[assignment]
            if event.timestamp <= at:
                low = middle
            else:
                high = middle - 1
        if low == 0:
            raise InvalidVersionError("at", f"the session did not exist yet at {at.isoformat()}")
        return low
