"""The engine's commands and queries on agents (mixed into `Engine`).

Same rules as for sessions: validate, decide, record in one transaction; a
foreign tenant's agent is "not found". Imports eventsourcing and the domain only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Recording

from domain.agent import Agent, AgentFields, AgentState
from domain.context import CommandContext
from domain.errors import AgentDeletedError, AgentNotFoundError, VersionConflictError
from domain.validation import check_json

if TYPE_CHECKING:
    from eventsourcing.application import Application

    _Base = Application[UUID]
else:
    _Base = object


@dataclass(frozen=True)
class AgentResult:
    """What an agent command recorded, and where in the log."""

    agent: AgentState
    position: int | None


class AgentCommands(_Base):
    """Create, update, delete and read agents."""

    def create_agent(
        self, ctx: CommandContext, fields: AgentFields, *, agent_id: UUID | None = None
    ) -> AgentResult:
        check_json(fields.model_dump(mode="json"), "agent")
        return self._record_agent(Agent.create(ctx, fields, agent_id=agent_id))

    def update_agent(
        self,
        ctx: CommandContext,
        agent_id: UUID,
        changes: AgentFields,
        *,
        expected_version: int | None = None,
    ) -> AgentResult:
        check_json(changes.model_dump(mode="json"), "agent")
        agent = self._load_agent(ctx.tenant_id, agent_id)
        if expected_version is not None and agent.version != expected_version:
            raise VersionConflictError(
                agent_id, expected=expected_version, actual=agent.version, kind="agent"
            )
        agent.update(ctx, changes)
        return self._record_agent(agent, expected_version=expected_version)

    def delete_agent(
        self, ctx: CommandContext, agent_id: UUID, *, expected_version: int | None = None
    ) -> AgentResult:
        agent = self._load_agent(ctx.tenant_id, agent_id)
        if expected_version is not None and agent.version != expected_version:
            raise VersionConflictError(
                agent_id, expected=expected_version, actual=agent.version, kind="agent"
            )
        agent.delete(ctx)
        return self._record_agent(agent, expected_version=expected_version)

    def get_agent(self, tenant_id: str, agent_id: UUID) -> AgentState:
        """The agent now; a deleted one is `AgentDeletedError`."""
        agent = self._load_agent(tenant_id, agent_id)
        if agent.is_deleted:
            raise AgentDeletedError(agent_id)
        return agent.state()

    def _load_agent(self, tenant_id: str, agent_id: UUID) -> Agent:
        try:
            agent: Agent = self.repository.get(agent_id)
        except AggregateNotFoundError:
            raise AgentNotFoundError(agent_id) from None
        if not isinstance(agent, Agent) or agent.tenant_id != tenant_id:
            raise AgentNotFoundError(agent_id)
        return agent

    def _record_agent(self, agent: Agent, *, expected_version: int | None = None) -> AgentResult:
        if not agent.pending_events:
            return AgentResult(agent.state(), None)
        try:
            recordings: list[Recording[UUID]] = self.save(agent)
        except IntegrityError:
            raise VersionConflictError(
                agent.id, expected=expected_version or agent.version - 1, actual=None, kind="agent"
            ) from None
        return AgentResult(agent.state(), recordings[-1].notification.id)
