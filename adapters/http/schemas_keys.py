"""The JSON shapes of API keys in the HTTP API (and of `chatledger keys … --json`).

Outputs never carry a key's hash; the key itself (`key`) appears once, in the
answer to its creation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from adapters.http.schemas import Input
from adapters.ledger_keys import IssuedKey
from domain.api_key import MAX_NAME_LENGTH, KeyRole
from projections.api_keys import ApiKeyRecord


class KeyIn(Input):
    """A new key of the caller's tenant."""

    role: KeyRole = Field(description="`member`, `auditor` or `admin`")
    name: str = Field(
        default="",
        max_length=MAX_NAME_LENGTH,
        description="A label; requests made with the key record it as their actor "
        "(else `key:<id>`)",
    )


class KeyOut(BaseModel):
    """An API key, without its secret or hash."""

    id: str
    tenant_id: str
    role: KeyRole
    name: str
    status: Literal["active", "revoked"]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> KeyOut:
        return cls(
            id=record.id,
            tenant_id=record.tenant_id,
            role=record.role,
            name=record.name,
            status=record.status,
            created_by=record.created_by,
            created_at=record.created_at,
            revoked_at=record.revoked_at,
        )


class IssuedKeyOut(KeyOut):
    """A key just created, with the key itself: shown this once, never again."""

    key: str = Field(description="Send it as `Authorization: Bearer <key>` or `X-API-Key`")

    @classmethod
    def issued(cls, issued: IssuedKey) -> IssuedKeyOut:
        return cls(**KeyOut.of(issued.key).model_dump(), key=issued.token)


class KeyListOut(BaseModel):
    """The tenant's keys, oldest first."""

    data: list[KeyOut]
    next_cursor: None = None
