"""Idempotent turns: a retried request is answered from the record, not run again.

A turn started with an idempotency key is fingerprinted (`request_hash`: its
input and options as canonical JSON, hashed) and the fingerprint is recorded
with its completion. A later request with the same key in the same session is
answered from that record (`stored_result`) without calling the model; the same
key with a different request, or from another principal, is refused (422): keys
are scoped by (tenant, principal, key), so nobody is answered from another
principal's record. `IdempotentTurns` also knows the
keyed turns running now, so a request that repeats one waits for it to end and
is then answered from its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import anyio

from adapters.chat_events import TokenUsage, TurnResult
from adapters.tools import ToolBox
from domain.context import CommandContext
from domain.errors import InvalidInputError
from domain.session import Session
from domain.turns import TurnInput

if TYPE_CHECKING:
    from adapters.ledger import Ledger


def request_hash(turn: TurnInput, *, suggestions: bool) -> str:
    """A fingerprint of what was asked, to tell a retried request from a different one."""
    payload = turn.model_dump(mode="json") | {"suggestions": suggestions}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotentTurns:
    """Turns started with an idempotency key: those running now, and the recorded answers."""

    def __init__(self, ledger: Ledger, toolbox: ToolBox) -> None:
        self.ledger = ledger
        self.toolbox = toolbox
        self._running: dict[tuple[str, str, str, str | None], asyncio.Task[TurnResult]] = {}

    async def recorded(
        self, ctx: CommandContext, session_id: str | UUID, key: str | None, digest: str
    ) -> TurnResult | None:
        """The recorded result for `key` (after the turn running with it, if any), or None."""
        if key is None:
            return None
        running = (ctx.tenant_id, ctx.actor, str(session_id), key)
        if running in self._running:
            # The same key is being answered right now: wait, then answer from the record.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._running[running])
        return await anyio.to_thread.run_sync(
            stored_result, self.ledger, self.toolbox, ctx, session_id, key, digest
        )

    def track(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        key: str | None,
        task: asyncio.Task[TurnResult],
    ) -> None:
        """Remember `task` as the turn answering `key` until it ends (no key: nothing to do)."""
        if key is None:
            return
        running = (ctx.tenant_id, ctx.actor, str(session_id), key)
        self._running[running] = task
        task.add_done_callback(lambda _: self._running.pop(running, None))


def stored_result(
    ledger: Ledger,
    toolbox: ToolBox,
    ctx: CommandContext,
    session_id: str | UUID,
    key: str | None,
    digest: str,
) -> TurnResult | None:
    """The recorded result of an earlier request with this key, if any."""
    if key is None:
        return None
    session = ledger.get_session(ctx.tenant_id, session_id)
    row = ledger.views.completions.find_by_idempotency_key(ctx.tenant_id, str(session.id), key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise InvalidInputError(
            "header.Idempotency-Key",
            "was already used for a different request in this session",
        )
    events = ledger.engine.list_events(
        ctx.tenant_id, session.id, after=row.version - 1, until=row.version + 1
    )
    completion = events[0]
    assert isinstance(completion, Session.CompletionRecorded)
    if completion.actor != ctx.actor:
        raise InvalidInputError(
            "header.Idempotency-Key", "was already used by another principal in this session"
        )
    reply = completion.reply
    following = events[1] if len(events) > 1 else None
    message_id = (
        following.message.id
        if isinstance(following, Session.MessageAppended) and following.message.role == "assistant"
        else None
    )
    inputs = completion.manifest.input_message_ids
    return TurnResult(
        execution_id=uuid4().hex,
        session_id=str(session.id),
        completion_id=completion.completion_id,
        completion_ids=[completion.completion_id],
        output=reply.text,
        message_id=message_id,
        user_message_id=inputs[0] if inputs else None,
        finish_reason=reply.finish_reason,
        tool_calls=reply.tool_calls if not toolbox.can_run(reply.tool_calls) else [],
        token_usage=TokenUsage(
            input_tokens=reply.usage.input_tokens if reply.usage else 0,
            output_tokens=reply.usage.output_tokens if reply.usage else 0,
        ),
        time=round(completion.latency_ms / 1000, 6),
        version=row.version + (1 if message_id else 0),
        provider=completion.provider,
        model=completion.model,
        replayed=True,
    )
