"""The Agent aggregate: which provider and model a session talks to, and how.

An agent holds a provider, a model, instructions (optionally a template), the
default settings of its calls and the tools it offers; a session bound to an
agent takes these as defaults that per-call settings override. Agents are
event-sourced like sessions, with explicit topics (`chatledger.Agent.*`).
Imports pydantic, eventsourcing and the domain only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from domain.base import Aggregate, AttributedEvent, Immutable
from domain.context import CommandContext
from domain.errors import AgentDeletedError
from domain.llm import ChatSettings, ToolDefinition

ContextPolicy = Literal["truncate", "summarize"]
"""What happens when a prompt would pass the agent's context limit: drop the oldest
messages (`truncate`) or have the model summarise them once (`summarize`)."""


class AgentFields(Immutable):
    """An agent's editable fields (all of them, or a patch where `None` means unchanged)."""

    name: str | None = None
    provider: str | None = None
    model: str | None = None
    instructions: str | None = None
    settings: ChatSettings | None = None
    tools: list[ToolDefinition] | None = None
    metadata: dict[str, Any] | None = None
    context_limit: int | None = Field(default=None, ge=1)
    """Tokens the prompt may take (estimated); beyond it, `context_policy` applies."""
    context_policy: ContextPolicy | None = None


class Agent(Aggregate):
    """A configured model: provider, model, instructions, default settings and tools."""

    TOPIC: ClassVar[str] = "chatledger.Agent"

    class Event(AttributedEvent):
        """Base of agent events: who, for which tenant, under which request."""

    class Created(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "chatledger.Agent.Created"
        name: str
        provider: str | None
        model: str | None
        instructions: str
        settings: ChatSettings
        tools: list[ToolDefinition]
        metadata: dict[str, Any]
        context_limit: int | None = None
        context_policy: ContextPolicy = "truncate"

    class Updated(Event):
        """The fields given replace the agent's (`settings` and `tools` as wholes)."""

        TOPIC: ClassVar[str] = "chatledger.Agent.Updated"
        changes: AgentFields

        def apply(self, aggregate: Agent) -> None:
            for field in AgentFields.model_fields:
                value = getattr(self.changes, field)
                if value is not None:
                    setattr(aggregate, field, value)

    class Deleted(Event):
        TOPIC: ClassVar[str] = "chatledger.Agent.Deleted"

        def apply(self, aggregate: Agent) -> None:
            aggregate.is_deleted = True

    def __init__(
        self,
        *,
        tenant_id: str,
        name: str,
        provider: str | None,
        model: str | None,
        instructions: str,
        settings: ChatSettings,
        tools: list[ToolDefinition],
        metadata: dict[str, Any],
        context_limit: int | None = None,
        context_policy: ContextPolicy = "truncate",
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.provider = provider
        self.model = model
        self.instructions = instructions
        self.settings = settings
        self.tools = list(tools)
        self.metadata = dict(metadata)
        self.context_limit = context_limit
        self.context_policy = context_policy
        self.is_deleted = False

    @classmethod
    def create(
        cls, ctx: CommandContext, fields: AgentFields, *, agent_id: UUID | None = None
    ) -> Agent:
        """A new agent; unset fields take their defaults."""
        return cls._create(
            cls.Created,
            id=agent_id,
            name=fields.name or "",
            provider=fields.provider,
            model=fields.model,
            instructions=fields.instructions or "",
            settings=fields.settings or ChatSettings(),
            tools=list(fields.tools or []),
            metadata=dict(fields.metadata or {}),
            context_limit=fields.context_limit,
            context_policy=fields.context_policy or "truncate",
            **ctx.event_fields(),
        )

    def update(self, ctx: CommandContext, changes: AgentFields) -> None:
        if self.is_deleted:
            raise AgentDeletedError(self.id)
        current = self.state().model_dump()
        given = changes.model_dump(exclude_none=True)
        if any(current.get(field) != value for field, value in given.items()):
            self.trigger_event(self.Updated, changes=changes, **ctx.event_fields())

    def delete(self, ctx: CommandContext) -> None:
        if self.is_deleted:
            raise AgentDeletedError(self.id)
        self.trigger_event(self.Deleted, **ctx.event_fields())

    def state(self) -> AgentState:
        return AgentState(
            id=self.id,
            tenant_id=self.tenant_id,
            name=self.name,
            provider=self.provider,
            model=self.model,
            instructions=self.instructions,
            settings=self.settings,
            tools=self.tools,
            metadata=self.metadata,
            context_limit=self.context_limit,
            context_policy=self.context_policy,
            version=self.version,
            is_deleted=self.is_deleted,
            created_at=self.created_on,
            updated_at=self.modified_on,
        )


class AgentState(Immutable):
    """An agent as of one version: frozen data for queries."""

    id: UUID
    tenant_id: str
    name: str
    provider: str | None
    model: str | None
    instructions: str
    settings: ChatSettings
    tools: list[ToolDefinition] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    context_limit: int | None = None
    context_policy: ContextPolicy = "truncate"
    version: int
    is_deleted: bool
    created_at: datetime
    updated_at: datetime
