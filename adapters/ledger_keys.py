"""The Python API for API keys and refused access (mixed into `Ledger`).

Keys are created in the tenant of the command's context (the secret is returned
once, in `IssuedKey.token`), listed and revoked; `authenticate` turns a key as
sent into its record, or raises `AuthenticationError`. `record_access_denied`
records a refused request as an `Access.Denied` event for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from adapters.api_key_tokens import (
    key_token,
    new_secret,
    parse_token,
    secret_matches,
    secret_sha256,
)
from adapters.ledger_core import LedgerCore, parse_id
from domain.access import Access
from domain.api_key import ApiKey
from domain.context import CommandContext
from domain.errors import ApiKeyNotFoundError, ApiKeyRevokedError, AuthenticationError
from projections.api_keys import ApiKeyRecord


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: its record, and the key itself (shown this once only)."""

    key: ApiKeyRecord
    token: str


def key_uuid(key_id: str | UUID) -> UUID:
    """A key id from its text; anything else is an unknown key."""
    return parse_id(key_id, ApiKeyNotFoundError)


class KeysAPI(LedgerCore):
    """API keys: create, list, revoke, authenticate; and the record of refused access."""

    def create_api_key(self, ctx: CommandContext, *, role: str, name: str = "") -> IssuedKey:
        """A new key of `ctx.tenant_id` with `role`; `name` labels it."""
        key_id, secret = uuid4(), new_secret()
        key = ApiKey.create(
            ctx, key_id=key_id, role=role, name=name, secret_sha256=secret_sha256(secret)
        )
        self._save_key(key)
        return IssuedKey(self._record(key_id), key_token(key_id, secret))

    def list_api_keys(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        """A tenant's keys, oldest first (every tenant's when None: operators only)."""
        return self.views.keys.list_keys(tenant_id)

    def get_api_key(self, tenant_id: str | None, key_id: str | UUID) -> ApiKeyRecord:
        """One key of `tenant_id` (of any tenant when None); others are not found."""
        record = self.views.keys.get_key(str(key_uuid(key_id)))
        if record is None or tenant_id not in (None, record.tenant_id):
            raise ApiKeyNotFoundError(key_id)
        return record

    def revoke_api_key(self, ctx: CommandContext, key_id: str | UUID) -> ApiKeyRecord:
        """Revoke a key of `ctx.tenant_id` (already revoked: nothing is recorded)."""
        key = self._load_key(ctx.tenant_id, key_uuid(key_id))
        key.revoke(ctx)
        self._save_key(key)
        return self._record(key.id)

    def has_api_keys(self) -> bool:
        """Whether any key was ever created (then `auth=auto` requires keys)."""
        return self.views.keys.has_keys()

    def keys_required(self, auth: str) -> bool:
        """Whether requests need a key under the `auth` setting (`required`, `off`, or
        `auto`: once any key was ever created)."""
        if auth == "auto":
            return self.has_api_keys()
        return auth == "required"

    def authenticate(self, token: str) -> ApiKey:
        """The active key `token` is; `AuthenticationError` for anything else.

        Read from the log, not the `api_keys` view: a revocation holds from the moment it
        is recorded, in every process, whether the view is rebuilt or fed by a worker."""
        parsed = parse_token(token)
        if parsed is None:
            raise AuthenticationError("malformed API key")
        key_id, secret = parsed
        key = self._find_key(key_id)
        if not secret_matches(secret, key.secret_sha256 if key else None):
            raise AuthenticationError("unknown API key")
        assert key is not None
        if key.is_revoked:
            raise ApiKeyRevokedError(str(key.id), key.tenant_id)
        return key

    def record_access_denied(
        self,
        ctx: CommandContext,
        *,
        method: str,
        route: str,
        role: str,
        status: int,
        key_id: str | None = None,
        reason: str = "",
    ) -> None:
        """Record one refused request (`Access.Denied`) in `ctx.tenant_id`."""
        attempt = Access.deny(
            ctx, method=method, route=route, role=role, status=status, key_id=key_id, reason=reason
        )
        recordings = self.engine.save(attempt)
        self._ensure_visible(recordings[-1].notification.id if recordings else None)

    def _load_key(self, tenant_id: str, key_id: UUID) -> ApiKey:
        key = self._find_key(key_id)
        if key is None or key.tenant_id != tenant_id:
            raise ApiKeyNotFoundError(key_id)
        return key

    def _find_key(self, key_id: UUID) -> ApiKey | None:
        """The key with this id, in any tenant (None: no such key)."""
        try:
            key = self.engine.repository.get(key_id)
        except AggregateNotFoundError:
            return None
        return key if isinstance(key, ApiKey) else None

    def _save_key(self, key: ApiKey) -> None:
        if key.pending_events:
            recordings = self.engine.save(key)
            self._ensure_visible(recordings[-1].notification.id)

    def _record(self, key_id: UUID) -> ApiKeyRecord:
        record = self.views.keys.get_key(str(key_id))
        assert record is not None, "the view shows a key once its command has answered"
        return record
