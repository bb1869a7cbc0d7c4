"""The Python API: `Ledger`, one object over one database.

It is `LedgerCore` (sessions, messages, events, projections) with branches and
time travel (`HistoryAPI`), agents (`AgentsAPI`), the audit trail (`AuditAPI`), chat
(`ChatAPI`), erasure (`ErasureAPI`), integrity (`IntegrityAPI`: verify, signed digests)
and API keys (`KeysAPI`) mixed in.
Build one with `adapters.bootstrap.open_ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from adapters.bundles import ImportResult, export_bundle, import_bundle
from adapters.ledger_agents import AgentsAPI
from adapters.ledger_audit import AuditAPI
from adapters.ledger_chat import ChatAPI
from adapters.ledger_core import AppendResult, LedgerCore, Views, session_uuid
from adapters.ledger_erasure import ErasureAPI
from adapters.ledger_history import FullState, HistoryAPI
from adapters.ledger_integrity import IntegrityAPI
from adapters.ledger_keys import KeysAPI
from adapters.replay import ReplayOptions, ReplayReport, replay_session
from adapters.replay_report import BatchReport, Progress, replay_batch
from domain.context import CommandContext


class Ledger(AgentsAPI, AuditAPI, ChatAPI, ErasureAPI, HistoryAPI, IntegrityAPI, KeysAPI):
    """chatledger's Python API over one database."""

    def export_session(
        self, tenant_id: str, session_id: str | UUID, *, with_sources: bool = False
    ) -> Iterator[bytes]:
        """The session as a verifiable NDJSON bundle, line by line (see `adapters.bundles`)."""
        return export_bundle(self, tenant_id, session_uuid(session_id), with_sources=with_sources)

    def replay(self, ctx: CommandContext, session_id: str | UUID, **options: Any) -> ReplayReport:
        """Replay a session into a new branch (options as `ReplayOptions`)."""
        replaying = replay_session(self, ctx, session_uuid(session_id), ReplayOptions(**options))
        return self.loop_thread().run(replaying)

    def replay_batch(
        self,
        ctx: CommandContext,
        metadata_filter: dict[str, Any],
        *,
        on_progress: Progress | None = None,
        **options: Any,
    ) -> BatchReport:
        """Replay every session whose metadata contains `metadata_filter`."""
        batch = replay_batch(
            self, ctx, metadata_filter, ReplayOptions(**options), on_progress=on_progress
        )
        return self.loop_thread().run(batch)

    def import_bundle(
        self, ctx: CommandContext, data: bytes, *, new_id: str | UUID | None = None
    ) -> ImportResult:
        """Verify a bundle and store its events; repeated imports change nothing."""
        target = None if new_id is None else session_uuid(new_id)
        return import_bundle(self, ctx, data, new_id=target)

    def close(self) -> None:
        """Stop the chat loop thread, if one ran, and close the database pools."""
        self.close_portal()
        super().close()


__all__ = ["AppendResult", "FullState", "Ledger", "LedgerCore", "Views", "session_uuid"]
