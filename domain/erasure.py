"""Erase a session's content, or redact one message: the log stays, the content goes.

Content is sealed under keys (see `domain.sealing`); these commands record the
events on whose recording the store destroys the keys: `Session.ContentErased`
(every key of the session; implies deletion) and `Session.MessageRedacted`
(one message's key). Both carry a reason code, never free text, so the events
that remove content hold none. Mixed into `Engine`; imports the domain only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

from domain.context import CommandContext
from domain.errors import InvalidInputError
from domain.session_changes import SessionChanges
from domain.validation import check_text

if TYPE_CHECKING:
    from domain.engine import CommandResult

ERASE_REASON = "erasure-request"
"""The reason an erasure records when none is given."""
REDACT_REASON = "moderation"
"""The reason a redaction records when none is given."""
REASON_CODE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
"""A reason is a code (`gdpr-art-17`, `moderation`, `user-request`), never prose."""


def check_reason(reason: str) -> str:
    """Refuse a reason that is not a short lower-case code (it is kept in the clear)."""
    if not REASON_CODE.fullmatch(reason):
        raise InvalidInputError(
            "reason", "must be a code of 1-64 characters: a-z, 0-9, and _ . : - (no prose)"
        )
    return reason


class ErasureCommands(SessionChanges):
    """Erase sessions and redact messages (mixed into `Engine`)."""

    def erase_session(
        self, ctx: CommandContext, session_id: UUID, *, reason: str = ERASE_REASON
    ) -> CommandResult:
        """Destroy every key of the session (deleted ones too); erasing twice changes nothing."""
        check_reason(reason)
        return self._change(ctx, session_id, lambda s: s.erase(ctx, reason), expected_version=None)

    def redact_message(
        self,
        ctx: CommandContext,
        session_id: UUID,
        message_id: str,
        *,
        reason: str = REDACT_REASON,
    ) -> CommandResult:
        """Destroy one message's key: it reads as `[redacted]` from now on."""
        check_reason(reason)
        check_text(message_id, "message_id")
        if not message_id:
            raise InvalidInputError("message_id", "must not be empty")
        return self._change(
            ctx,
            session_id,
            lambda s: s.redact_message(ctx, message_id, reason),
            expected_version=None,
        )
