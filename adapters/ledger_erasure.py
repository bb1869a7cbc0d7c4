"""The Python API for erasure and redaction (mixed into `Ledger`).

`erase_session` destroys a session's keys (deleted sessions too): its content
then reads as `[erased]` everywhere, in the log, the views, exports and time
travel, and normal reads answer "deleted". `redact_message` destroys one
message's key; the message reads as `[redacted]`. A message a fork or merge
inherited is redacted in the session that first recorded it.
"""

from __future__ import annotations

from uuid import UUID

from adapters.ledger_core import LedgerCore, session_uuid
from domain.context import CommandContext
from domain.erasure import ERASE_REASON, REDACT_REASON
from domain.errors import MessageNotFoundError
from domain.session import SessionState


class ErasureAPI(LedgerCore):
    """Crypto-shredding erasure of sessions, and redaction of messages."""

    def erase_session(
        self, ctx: CommandContext, session_id: str | UUID, *, reason: str = ERASE_REASON
    ) -> SessionState:
        """Erase the session's content for good (idempotent); returns it as it is now."""
        result = self.engine.erase_session(ctx, session_uuid(session_id), reason=reason)
        return self._visible(result).session

    def redact_message(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        message_id: str,
        *,
        reason: str = REDACT_REASON,
    ) -> SessionState:
        """Redact one message of the session's history; returns the session that held it."""
        sid = session_uuid(session_id)
        self.engine.get_state(ctx.tenant_id, sid)  # unknown or another tenant's: 404
        origin = self.history.get_message_origin(ctx.tenant_id, str(sid), message_id)
        if origin is None:
            raise MessageNotFoundError(sid, message_id)
        result = self.engine.redact_message(ctx, UUID(origin), message_id, reason=reason)
        return self._visible(result).session
