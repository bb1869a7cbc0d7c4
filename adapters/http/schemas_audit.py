"""The JSON shape of an audit entry (`GET /v1/audit`, the CLI's `--json`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from adapters.audit_export import audit_record
from projections.audit import AuditEntry


class AuditEntryOut(BaseModel):
    """One event of the log: who did what, when, under which request (never its content)."""

    position: int
    """The event's place in the whole log (its notification id)."""
    tenant_id: str
    stream_kind: str
    """The kind of aggregate: `Session`, `Agent`, …"""
    stream_id: str
    session_id: str | None
    """The session the event belongs to or names."""
    version: int
    type: str
    """The event's type, e.g. `Session.MessageAppended`."""
    actor: str
    recorded_at: datetime
    correlation_id: str | None
    causation_id: str | None
    trace_id: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls.model_validate(audit_record(entry))
