"""The agent list: one row per agent, for listing and paging within a tenant.

Imports domain and projections only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.agent import Agent
from projections.base import Cursor, Projection
from projections.paging import Page


@dataclass(frozen=True)
class AgentSummary:
    """An agent as the list shows it."""

    id: str
    tenant_id: str
    name: str
    provider: str | None
    model: str | None
    metadata: dict[str, Any]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AgentQuery:
    tenant_id: str
    limit: int = 50
    cursor: str | None = None
    offset: int | None = None
    order: Literal["asc", "desc"] = "desc"
    include_deleted: bool = False


class AgentListView:
    """Rows of the agent list; writes go through the caller's cursor."""

    @abstractmethod
    def add_agent(self, cursor: Cursor, event: Agent.Created) -> None: ...

    @abstractmethod
    def change_agent(
        self, cursor: Cursor, event: Agent.Event, fields: dict[str, Any], status: str | None
    ) -> None: ...

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def list_agents(self, query: AgentQuery) -> Page[AgentSummary]: ...


class AgentListProjection(Projection[AgentListView]):
    """Keeps the agent list in step with agent events."""

    name: ClassVar[str] = "agent_list"
    topics: ClassVar[tuple[str, ...]] = tuple(
        get_topic(c) for c in (Agent.Created, Agent.Updated, Agent.Deleted)
    )

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Other events leave the list alone."""

    @process_event.register
    def _(self, event: Agent.Created, cursor: Cursor) -> None:
        self.view.add_agent(cursor, event)

    @process_event.register
    def _(self, event: Agent.Updated, cursor: Cursor) -> None:
        listed = {"name", "provider", "model", "metadata"}
        fields = {
            k: v for k, v in event.changes.model_dump(exclude_none=True).items() if k in listed
        }
        self.view.change_agent(cursor, event, fields, None)

    @process_event.register
    def _(self, event: Agent.Deleted, cursor: Cursor) -> None:
        self.view.change_agent(cursor, event, {}, "deleted")
