"""The API key view in SQL (`api_keys`), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from domain.api_key import ApiKey
from projections.api_keys import ApiKeyRecord, ApiKeyView
from projections.base import Cursor


class SqlApiKeyView(ApiKeyView):
    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("api_keys")

    def create_statements(self) -> list[str]:
        time = self.d.time_type
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " key_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, role TEXT NOT NULL,"
            " name TEXT NOT NULL, secret_sha256 TEXT NOT NULL, status TEXT NOT NULL,"
            f" created_by TEXT NOT NULL, created_at {time} NOT NULL, revoked_at {time})",
            f"CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON {self.t} (tenant_id, created_at)",
        ]

    def add_key(self, cursor: Cursor, event: ApiKey.Created) -> None:
        cursor.execute(
            self.d.sql(
                f"INSERT INTO {self.t} (key_id, tenant_id, role, name, secret_sha256, status,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)"
            ),
            (
                str(event.originator_id),
                event.tenant_id,
                event.role,
                event.name,
                event.secret_sha256,
                event.actor,
                self.d.time_in(event.timestamp),
            ),
        )

    def revoke_key(self, cursor: Cursor, event: ApiKey.Revoked) -> None:
        cursor.execute(
            self.d.sql(f"UPDATE {self.t} SET status = 'revoked', revoked_at = ? WHERE key_id = ?"),
            (self.d.time_in(event.timestamp), str(event.originator_id)),
        )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._select("WHERE key_id = ?", [key_id])
        return rows[0] if rows else None

    def list_keys(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            return self._select("", [])
        return self._select("WHERE tenant_id = ?", [tenant_id])

    def has_keys(self) -> bool:
        with self.read() as cursor:
            cursor.execute(f"SELECT 1 FROM {self.t} LIMIT 1")
            return cursor.fetchone() is not None

    def _select(self, where: str, params: list[Any]) -> list[ApiKeyRecord]:
        d = self.d
        with self.read() as cursor:
            cursor.execute(
                d.sql(f"SELECT * FROM {self.t} {where} ORDER BY created_at, key_id"), params
            )
            rows = cursor.fetchall()
        return [
            ApiKeyRecord(
                id=r["key_id"],
                tenant_id=r["tenant_id"],
                role=r["role"],
                name=r["name"],
                secret_sha256=r["secret_sha256"],
                status=r["status"],
                created_by=r["created_by"],
                created_at=d.time_out(r["created_at"]),
                revoked_at=None if r["revoked_at"] is None else d.time_out(r["revoked_at"]),
            )
            for r in rows
        ]
