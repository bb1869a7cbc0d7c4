"""The Python API for agents (mixed into `Ledger`): create, read, list, update, delete."""

from __future__ import annotations

from uuid import UUID

from adapters.ledger_core import LedgerCore, parse_id
from domain.agent import AgentFields, AgentState
from domain.context import CommandContext
from domain.errors import AgentNotFoundError
from projections.agent_list import AgentQuery, AgentSummary
from projections.paging import Page


def agent_uuid(agent_id: str | UUID) -> UUID:
    """An agent id from its text; anything else is an unknown agent."""
    return parse_id(agent_id, AgentNotFoundError)


class AgentsAPI(LedgerCore):
    """Agents: provider, model, instructions, default settings and tools."""

    def create_agent(self, ctx: CommandContext, fields: AgentFields) -> AgentState:
        result = self.engine.create_agent(ctx, fields)
        self._ensure_visible(result.position)
        return result.agent

    def get_agent(self, tenant_id: str, agent_id: str | UUID) -> AgentState:
        return self.engine.get_agent(tenant_id, agent_uuid(agent_id))

    def list_agents(self, query: AgentQuery) -> Page[AgentSummary]:
        return self.views.agents.list_agents(query)

    def update_agent(
        self,
        ctx: CommandContext,
        agent_id: str | UUID,
        changes: AgentFields,
        *,
        expected_version: int | None = None,
    ) -> AgentState:
        result = self.engine.update_agent(
            ctx, agent_uuid(agent_id), changes, expected_version=expected_version
        )
        self._ensure_visible(result.position)
        return result.agent

    def delete_agent(
        self, ctx: CommandContext, agent_id: str | UUID, *, expected_version: int | None = None
    ) -> AgentState:
        result = self.engine.delete_agent(
            ctx, agent_uuid(agent_id), expected_version=expected_version
        )
        self._ensure_visible(result.position)
        return result.agent
