"""Fork, copy and merge: new sessions that carry where their history came from.

A fork starts with `Session.Forked` naming its source and version; a copy is
a fork at the head. A merge starts the target with `Session.Merged` and
appends `Session.MergedInto` to every source, all in one transaction. None of
them rewrites a source's messages: the history reads them from the sources.
Mixed into `Engine`; imports eventsourcing and the domain only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.base import project_events
from domain.context import CommandContext
from domain.errors import InvalidInputError, InvalidVersionError, VersionConflictError
from domain.session import MergePolicy, MergeSource, Session, SessionState
from domain.validation import check_text

if TYPE_CHECKING:
    from domain.engine import CommandResult


class BranchCommands:
    """Fork, copy and merge sessions (mixed into `Engine`)."""

    def fork_session(
        self,
        ctx: CommandContext,
        source_id: UUID,
        *,
        at_version: int | None = None,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        is_copy: bool = False,
        agent_id: str | None = None,
        situation: str | None = None,
    ) -> CommandResult:
        """A new session with the source's state and history as of `at_version` (the head).

        `agent_id` and `situation` let a branch differ from its source from the start
        (counterfactual replay against another agent or template).
        """
        head = self._load(ctx.tenant_id, source_id)
        version = head.version if at_version is None else at_version
        if not 1 <= version <= head.version:
            raise InvalidVersionError(
                "at_version", f"must be between 1 and {head.version}, got {version}"
            )
        source: Session = (
            head
            if version == head.version
            else self.repository.get(source_id, version=version, projector_func=project_events)
        )
        for name, value in (("title", title), ("agent_id", agent_id), ("situation", situation)):
            if value is not None:
                check_text(value, name)
        fork = Session._create(
            Session.Forked,
            title=source.title if title is None else title,
            user_id=source.user_id,
            agent_id=source.agent_id if agent_id is None else agent_id,
            situation=source.situation if situation is None else situation,
            context=dict(source.context),
            metadata=dict(source.metadata if metadata is None else metadata),
            render_templates=source.render_templates,
            source_id=str(source_id),
            source_version=version,
            source_cleared_at_version=source.cleared_at_version,
            inherited_messages=source.message_count,
            is_copy=is_copy,
            **ctx.event_fields(),
        )
        return self._record_changes(fork)

    def merge_sessions(
        self,
        ctx: CommandContext,
        source_ids: Sequence[UUID],
        *,
        policy: MergePolicy = "concatenate",
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> CommandResult:
        """A new session holding the sources' histories, each source marked `MergedInto`."""
        if len(source_ids) < 2 or len(set(source_ids)) != len(source_ids):
            raise InvalidInputError("sources", "a merge needs two or more distinct sessions")
        sources = [self._load(ctx.tenant_id, sid) for sid in source_ids]
        for source in sources:
            source._check_live()
        first = sources[0]
        target = Session._create(
            Session.Merged,
            title=title
            if title is not None
            else " + ".join(s.title or str(s.id)[:8] for s in sources),
            user_id=first.user_id,
            agent_id=first.agent_id,
            situation=first.situation,
            context=dict(first.context),
            metadata=dict(first.metadata if metadata is None else metadata),
            render_templates=first.render_templates,
            sources=[
                MergeSource(
                    session_id=str(s.id),
                    version=s.version,
                    cleared_at_version=s.cleared_at_version,
                    messages=s.message_count,
                )
                for s in sources
            ],
            policy=policy,
            inherited_messages=sum(s.message_count for s in sources),
            **ctx.event_fields(),
        )
        for source in sources:
            source.trigger_event(Session.MergedInto, target_id=str(target.id), **ctx.event_fields())
        try:
            recordings = self.save(target, *sources)
        except IntegrityError:
            raise VersionConflictError(first.id, expected=first.version, actual=None) from None
        from domain.engine import CommandResult

        return CommandResult(
            session=SessionState.of(target),
            events=tuple(e for e in (r.domain_event for r in recordings)),  # type: ignore[misc]
            position=recordings[-1].notification.id,
        )

    # Provided by the engine.

    def _load(self, tenant_id: str, session_id: UUID) -> Session:
        raise NotImplementedError

    def _record_changes(self, session: Session) -> CommandResult:
        raise NotImplementedError

    if TYPE_CHECKING:
        from eventsourcing.application import Repository
        from eventsourcing.persistence import Recording

        repository: Repository[UUID]

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...
