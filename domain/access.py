"""Refused access as a fact: one single-event stream per denied attempt.

When a principal is refused an operation its role lacks (403), or presents a
known but revoked key (401), the refusal is recorded as `Access.Denied`
(topic `chatledger.Access.Denied`) with the usual envelope (tenant, actor,
correlation and trace ids), so the audit trail lists it. Imports pydantic,
eventsourcing and the domain only.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import uuid4

from domain.base import Aggregate, AttributedEvent
from domain.context import CommandContext


class Access(Aggregate):
    """One refused request: which operation, for which role, and the status answered."""

    TOPIC: ClassVar[str] = "chatledger.Access"

    class Event(AttributedEvent):
        """Base of access events: who, for which tenant, under which request."""

    class Created(Event, Aggregate.Created):
        """Access was denied (the stream's only event, so it is also its first)."""

        TOPIC: ClassVar[str] = "chatledger.Access.Denied"
        method: str
        route: str
        """The route's path template (`/v1/keys/{key_id}`), not the request's path."""
        role: str
        status: int
        key_id: str | None = None
        reason: str = ""

    Denied = Created
    """The name the log knows it by: the library requires the first event to be `Created`."""

    def __init__(
        self, *, method: str, route: str, role: str, status: int, key_id: str | None, reason: str
    ) -> None:
        self.method = method
        self.route = route
        self.role = role
        self.status = status
        self.key_id = key_id
        self.reason = reason

    @classmethod
    def deny(
        cls,
        ctx: CommandContext,
        *,
        method: str,
        route: str,
        role: str,
        status: int,
        key_id: str | None = None,
        reason: str = "",
    ) -> Access:
        """The record of one refused attempt, in `ctx.tenant_id`, by `ctx.actor`."""
        return cls._create(
            cls.Created,
            id=uuid4(),
            method=method,
            route=route,
            role=role,
            status=status,
            key_id=key_id,
            reason=reason,
            **ctx.event_fields(),
        )
