"""The JSON shapes of agents in the HTTP API (and of the CLI's `--json` output).

An agent's `provider` and `model` may be "unset" (null): chat then uses the
server's default provider and that provider's default model. The engine
records an unset provider or model as `""` (null in an update means "unchanged"
to it), so outputs show both as null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from adapters.http.schemas import Input
from domain.agent import AgentFields, AgentState, ContextPolicy
from domain.llm import ChatSettings, ToolDefinition
from projections.agent_list import AgentSummary

UNSET = ""
"""How an update tells the engine to unset `provider` or `model`."""


class AgentIn(Input):
    """A new agent (POST), or every editable field of one (PUT: omitted fields are reset,
    except a `context_limit` once set, which the engine cannot unset yet)."""

    name: str = Field(min_length=1)
    provider: str | None = Field(
        default=None, description="`openai`, `anthropic`, `gemini`, `offline` …; null: default"
    )
    model: str | None = Field(default=None, description="null: the provider's default model")
    instructions: str = Field(
        default="", description="System instructions (a template when the session renders them)"
    )
    settings: ChatSettings = Field(
        default_factory=ChatSettings, description="Defaults of every call; per-call ones win"
    )
    tools: list[ToolDefinition] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    context_limit: int | None = Field(
        default=None, ge=1, description="Tokens a prompt may take (estimated); null: no limit"
    )
    context_policy: ContextPolicy = Field(
        default="truncate",
        description="Past the limit: drop the oldest messages, or summarise them once",
    )

    def to_fields(self) -> AgentFields:
        """The fields of a new agent."""
        return AgentFields(**self.model_dump())

    def to_replacement(self) -> AgentFields:
        """Every field, an unset provider or model included (for PUT)."""
        values = self.model_dump()
        values["provider"] = self.provider or UNSET
        values["model"] = self.model or UNSET
        return AgentFields(**values)


class AgentPatch(Input):
    """Fields to change; the ones given replace the agent's (`settings` and `tools` as
    wholes). A field set to null is reset to its default (provider and model: unset);
    `name` and `context_limit` cannot be null."""

    name: str | None = Field(default=None, min_length=1)
    provider: str | None = None
    model: str | None = None
    instructions: str | None = None
    settings: ChatSettings | None = None
    tools: list[ToolDefinition] | None = None
    metadata: dict[str, Any] | None = None
    context_limit: int | None = Field(default=None, ge=1)
    context_policy: ContextPolicy | None = None

    @field_validator("name", "context_limit")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # The engine cannot unset these: an agent keeps a name, and a limit once set.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def to_fields(self) -> AgentFields:
        """The changes: fields given, with nulls replaced by their defaults."""
        defaults = AgentIn(name="-").to_replacement().model_dump(exclude={"name"})
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return AgentFields(**{k: defaults[k] if v is None else v for k, v in given.items()})


def _unset_as_null(value: str | None) -> str | None:
    return value or None


class AgentOut(BaseModel):
    """An agent."""

    id: str
    tenant_id: str
    name: str
    provider: str | None
    model: str | None
    instructions: str
    settings: ChatSettings
    tools: list[ToolDefinition]
    metadata: dict[str, Any]
    context_limit: int | None
    context_policy: ContextPolicy
    status: Literal["active", "deleted"]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, state: AgentState) -> AgentOut:
        return cls(
            id=str(state.id),
            tenant_id=state.tenant_id,
            name=state.name,
            provider=_unset_as_null(state.provider),
            model=_unset_as_null(state.model),
            instructions=state.instructions,
            settings=state.settings,
            tools=state.tools,
            metadata=state.metadata,
            context_limit=state.context_limit,
            context_policy=state.context_policy,
            status="deleted" if state.is_deleted else "active",
            version=state.version,
            created_at=state.created_at,
            updated_at=state.updated_at,
        )


class AgentSummaryOut(BaseModel):
    """An agent as the list shows it."""

    id: str
    name: str
    provider: str | None
    model: str | None
    metadata: dict[str, Any]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: AgentSummary) -> AgentSummaryOut:
        return cls(
            id=summary.id,
            name=summary.name,
            provider=_unset_as_null(summary.provider),
            model=_unset_as_null(summary.model),
            metadata=summary.metadata,
            status=summary.status,
            version=summary.version,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
        )
