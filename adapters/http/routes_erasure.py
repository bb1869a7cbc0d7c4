"""Routes that destroy content: redacting one message (admins only).

Erasing a whole session is `DELETE /v1/sessions/{id}?erase=true` (routes_sessions.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.context import ContextDep, LedgerDep, require_roles
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.schemas import SessionOut
from domain.erasure import REDACT_REASON

router = APIRouter(
    prefix="/v1/sessions/{session_id}/messages",
    tags=["erasure"],
    dependencies=[Depends(json_input_guard), Depends(require_roles("admin"))],
)


class RedactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default=REDACT_REASON, description="A code, not prose")


@router.post(
    "/{message_id}/redact",
    response_model=SessionOut,
    responses=problem_responses(403, 404, 422),
    summary="Redact one message (admin)",
)
def redact_message(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    message_id: str,
    body: Annotated[RedactIn | None, Body()] = None,
) -> SessionOut:
    """Destroy the message's key: it reads as `[redacted]` everywhere from now on.

    Answers the session that first recorded the message (a fork's inherited message is
    redacted at its source).
    """
    reason = body.reason if body is not None else REDACT_REASON
    return SessionOut.of(ledger.redact_message(ctx, session_id, message_id, reason=reason))
