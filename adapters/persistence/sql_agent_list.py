"""The agent list view in SQL (`agent_list`), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from adapters.persistence.sql_dialect import Dialect, ReadTransaction
from adapters.persistence.sql_paging import list_by_update
from domain.agent import Agent
from projections.agent_list import AgentListView, AgentQuery, AgentSummary
from projections.base import Cursor
from projections.paging import Page


class SqlAgentListView(AgentListView):
    def __init__(self, dialect: Dialect, read: ReadTransaction) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table("agent_list")

    def create_statements(self) -> list[str]:
        d = self.d
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} ("
            " agent_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL,"
            f" provider TEXT, model TEXT, metadata {d.json_type} NOT NULL,"
            " status TEXT NOT NULL, version INTEGER NOT NULL,"
            f" created_at {d.time_type} NOT NULL, updated_at {d.time_type} NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS agent_list_by_update ON {self.t}"
            " (tenant_id, updated_at, agent_id)",
        ]

    def add_agent(self, cursor: Cursor, event: Agent.Created) -> None:
        d = self.d
        cursor.execute(
            d.sql(
                f"INSERT INTO {self.t} (agent_id, tenant_id, name, provider, model, metadata,"
                " status, version, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?j, 'active', ?, ?, ?)"
            ),
            (
                str(event.originator_id),
                event.tenant_id,
                event.name,
                event.provider,
                event.model,
                d.json_in(event.metadata),
                event.originator_version,
                d.time_in(event.timestamp),
                d.time_in(event.timestamp),
            ),
        )

    def change_agent(
        self, cursor: Cursor, event: Agent.Event, fields: dict[str, Any], status: str | None
    ) -> None:
        d = self.d
        sets = ["version = ?", "updated_at = ?"]
        params: list[Any] = [event.originator_version, d.time_in(event.timestamp)]
        for name in ("name", "provider", "model"):
            if name in fields:
                sets.append(f"{name} = ?")
                params.append(fields[name])
        if "metadata" in fields:
            sets.append("metadata = ?j")
            params.append(d.json_in(fields["metadata"]))
        if status is not None:
            sets.append("status = ?")
            params.append(status)
        params.append(str(event.originator_id))
        cursor.execute(d.sql(f"UPDATE {self.t} SET {', '.join(sets)} WHERE agent_id = ?"), params)

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t}")

    def list_agents(self, query: AgentQuery) -> Page[AgentSummary]:
        where = ["tenant_id = ?"]
        if not query.include_deleted:
            where.append("status = 'active'")
        rows, next_cursor = list_by_update(
            self.d,
            self.read,
            table=self.t,
            id_column="agent_id",
            where=where,
            params=[query.tenant_id],
            order=query.order,
            cursor=query.cursor,
            offset=query.offset,
            limit=query.limit,
        )
        return Page([self._summary(row) for row in rows], next_cursor)

    def _summary(self, row: Any) -> AgentSummary:
        d = self.d
        return AgentSummary(
            id=row["agent_id"],
            tenant_id=row["tenant_id"],
            name=row["name"],
            provider=row["provider"],
            model=row["model"],
            metadata=d.json_out(row["metadata"]),
            status=row["status"],
            version=row["version"],
            created_at=d.time_out(row["created_at"]),
            updated_at=d.time_out(row["updated_at"]),
        )
