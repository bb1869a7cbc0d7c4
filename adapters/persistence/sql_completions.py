"""The completions view in SQL (`completions`, keyed by session and version)."""

from __future__ import annotations

from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from projections.base import Cursor
from projections.completions import CompletionRow, CompletionsView


class SqlCompletionsView(CompletionsView):
    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("completions")

    def create_statements(self) -> list[str]:
        d = self.d
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " session_id TEXT NOT NULL, version INTEGER NOT NULL, tenant_id TEXT NOT NULL,"
            " completion_id TEXT NOT NULL, status TEXT NOT NULL, provider TEXT NOT NULL,"
            " model TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
            " latency_ms DOUBLE PRECISION NOT NULL, idempotency_key TEXT, request_hash TEXT,"
            f" created_at {d.time_type} NOT NULL, PRIMARY KEY (session_id, version))",
            f"CREATE INDEX IF NOT EXISTS completions_by_key ON {self.t}"
            " (session_id, idempotency_key)",
        ]

    def add_completion(self, cursor: Cursor, row: CompletionRow) -> None:
        d = self.d
        cursor.execute(
            d.sql(
                f"INSERT INTO {self.t} (session_id, version, tenant_id, completion_id, status,"
                " provider, model, input_tokens, output_tokens, latency_ms, idempotency_key,"
                " request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                row.session_id,
                row.version,
                row.tenant_id,
                row.completion_id,
                row.status,
                row.provider,
                row.model,
                row.input_tokens,
                row.output_tokens,
                row.latency_ms,
                row.idempotency_key,
                row.request_hash,
                d.time_in(row.created_at),
            ),
        )

    def forget_requests(self, cursor: Cursor, session_id: str) -> None:
        cursor.execute(
            self.d.sql(f"UPDATE {self.t} SET request_hash = NULL WHERE session_id = ?"),
            (session_id,),
        )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def find_by_idempotency_key(
        self, tenant_id: str, session_id: str, key: str
    ) -> CompletionRow | None:
        rows = self._select(
            "tenant_id = ? AND session_id = ? AND idempotency_key = ? AND status = 'ok'",
            [tenant_id, session_id, key],
        )
        return rows[-1] if rows else None  # the turn's last call (after any tool rounds)

    def list_completions(self, tenant_id: str, session_id: str) -> list[CompletionRow]:
        return self._select("tenant_id = ? AND session_id = ?", [tenant_id, session_id])

    def _select(self, where: str, params: list[Any]) -> list[CompletionRow]:
        d = self.d
        with self.read() as cursor:
            cursor.execute(d.sql(f"SELECT * FROM {self.t} WHERE {where} ORDER BY version"), params)
            rows = cursor.fetchall()
        return [
            CompletionRow(
                session_id=r["session_id"],
                version=r["version"],
                tenant_id=r["tenant_id"],
                completion_id=r["completion_id"],
                status=r["status"],
                provider=r["provider"],
                model=r["model"],
                input_tokens=r["input_tokens"],
                output_tokens=r["output_tokens"],
                latency_ms=r["latency_ms"],
                idempotency_key=r["idempotency_key"],
                request_hash=r["request_hash"],
                created_at=d.time_out(r["created_at"]),
            )
            for r in rows
        ]
