"""Who asks, for which tenant, and why: the context every command carries.

Each recorded event copies these fields, so the log says who changed what,
under which request (correlation) and in reaction to what (causation).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from pydantic import Field

from domain.base import Immutable


class CommandContext(Immutable):
    """The tenant and principal a command runs for, plus tracing ids."""

    tenant_id: str
    actor: str
    correlation_id: str = Field(default_factory=lambda: uuid4().hex)
    causation_id: str | None = None
    trace_id: str | None = None

    def event_fields(self) -> dict[str, Any]:
        """The fields every event of this command records."""
        return {
            "tenant_id": self.tenant_id,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "trace_id": self.trace_id,
        }
