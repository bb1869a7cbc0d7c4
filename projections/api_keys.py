"""The API key list (`api_keys`): one row per key, to authenticate requests and list keys.

A row holds what authentication needs (the key's tenant, role, status and the
SHA-256 of its secret) and what a listing shows. Imports domain and projections
only; concrete SQL lives in the adapters.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from domain.api_key import ApiKey, KeyRole
from projections.base import Cursor, Projection

KeyStatus = Literal["active", "revoked"]


@dataclass(frozen=True)
class ApiKeyRecord:
    """A key as the view holds it (the hash included: never hand it to clients)."""

    id: str
    tenant_id: str
    role: KeyRole
    name: str
    secret_sha256: str = field(repr=False)
    status: KeyStatus
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyView:
    """Rows of the key list; writes go through the caller's cursor."""

    @abstractmethod
    def add_key(self, cursor: Cursor, event: ApiKey.Created) -> None: ...

    @abstractmethod
    def revoke_key(self, cursor: Cursor, event: ApiKey.Revoked) -> None: ...

    @abstractmethod
    def clear(self, cursor: Cursor) -> None: ...

    @abstractmethod
    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this id, in any tenant and any status."""

    @abstractmethod
    def list_keys(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        """A tenant's keys (every tenant's when None), oldest first."""

    @abstractmethod
    def has_keys(self) -> bool:
        """Whether any key was ever created (revoked ones count)."""


class ApiKeyProjection(Projection[ApiKeyView]):
    """Keeps the key list in step with key events."""

    name: ClassVar[str] = "api_keys"
    rebuilt_atomically: ClassVar[bool] = True
    topics: ClassVar[tuple[str, ...]] = tuple(
        get_topic(c) for c in (ApiKey.Created, ApiKey.Revoked)
    )

    def clear(self, cursor: Cursor) -> None:
        self.view.clear(cursor)

    @singledispatchmethod
    def process_event(self, event: Any, cursor: Cursor) -> None:
        """Other events leave the list alone."""

    @process_event.register
    def _(self, event: ApiKey.Created, cursor: Cursor) -> None:
        self.view.add_key(cursor, event)

    @process_event.register
    def _(self, event: ApiKey.Revoked, cursor: Cursor) -> None:
        self.view.revoke_key(cursor, event)
