"""The ApiKey aggregate: one credential of one tenant, with a role, created then revoked.

A key is event-sourced like sessions and agents, so who created or revoked it
(and under which request) is in the log. Its events hold the SHA-256 of the
key's secret, never the secret itself; the envelope's `tenant_id` is the tenant
the key acts for. Topics are explicit (`chatledger.ApiKey.*`). Imports pydantic,
eventsourcing and the domain only.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from domain.base import Aggregate, AttributedEvent, Immutable
from domain.context import CommandContext
from domain.errors import InvalidInputError
from domain.validation import check_text

KeyRole = Literal["member", "admin", "auditor"]
ROLES: tuple[KeyRole, ...] = ("member", "admin", "auditor")

MAX_NAME_LENGTH = 200
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_role(role: str) -> KeyRole:
    """`role` if it is one of `ROLES`, else `InvalidInputError` naming the field."""
    for known in ROLES:
        if role == known:
            return known
    raise InvalidInputError("role", f"must be one of {', '.join(ROLES)}, got {role!r}")


class ApiKey(Aggregate):
    """A credential of one tenant with one role; usable until revoked."""

    TOPIC: ClassVar[str] = "chatledger.ApiKey"

    class Event(AttributedEvent):
        """Base of key events: who, for which tenant, under which request."""

    class Created(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "chatledger.ApiKey.Created"
        role: KeyRole
        name: str
        secret_sha256: str
        """Hex SHA-256 of the key's secret (the secret is shown once, never stored)."""

    class Revoked(Event):
        TOPIC: ClassVar[str] = "chatledger.ApiKey.Revoked"

        def apply(self, aggregate: ApiKey) -> None:
            aggregate.is_revoked = True

    def __init__(self, *, tenant_id: str, role: KeyRole, name: str, secret_sha256: str) -> None:
        self.tenant_id = tenant_id
        self.role = role
        self.name = name
        self.secret_sha256 = secret_sha256
        self.is_revoked = False

    @classmethod
    def create(
        cls, ctx: CommandContext, *, key_id: UUID, role: str, name: str, secret_sha256: str
    ) -> ApiKey:
        """A new key for `ctx.tenant_id`; `name` labels it (and is the actor it records)."""
        check_text(name, "name")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError("name", f"at most {MAX_NAME_LENGTH} characters")
        if not _SHA256_HEX.fullmatch(secret_sha256):
            raise InvalidInputError("secret_sha256", "must be 64 lowercase hex digits")
        return cls._create(
            cls.Created,
            id=key_id,
            role=check_role(role),
            name=name,
            secret_sha256=secret_sha256,
            **ctx.event_fields(),
        )

    def revoke(self, ctx: CommandContext) -> None:
        """Revoke the key; revoking a revoked key records nothing."""
        if not self.is_revoked:
            self.trigger_event(self.Revoked, **ctx.event_fields())

    def state(self) -> ApiKeyState:
        return ApiKeyState(
            id=self.id,
            tenant_id=self.tenant_id,
            role=self.role,
            name=self.name,
            is_revoked=self.is_revoked,
            version=self.version,
            created_at=self.created_on,
            updated_at=self.modified_on,
        )


class ApiKeyState(Immutable):
    """A key as of its latest version, without its hash: frozen data for queries."""

    id: UUID
    tenant_id: str
    role: KeyRole
    name: str
    is_revoked: bool
    version: int
    created_at: datetime
    updated_at: datetime
