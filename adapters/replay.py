"""Replay a recorded conversation: deterministically, or against another model.

A replay branches the session at its first version (a fork carrying the
provenance) and re-runs its history event by event: edits and plain appends
are re-applied, and every recorded turn is re-asked with the same input.
Deterministic replay answers each turn with its recorded completion (no
provider is called) and must rebuild the transcript byte for byte;
counterfactual replay asks another provider, model, agent or situation and
reports, turn by turn, where the answers first diverge.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid4

import anyio
from pydantic import BaseModel

from adapters.llm.offline import ReplayChatModel
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.llm import ChatReply, ChatSettings
from domain.message import Message
from domain.session import Session
from domain.turns import TurnInput

if TYPE_CHECKING:
    from adapters.ledger import Ledger

ReplayMode = Literal["deterministic", "counterfactual"]


class TurnComparison(BaseModel):
    """One recorded turn against its replay."""

    index: int
    input: str
    original: str
    replayed: str
    identical: bool
    first_divergence: int | None
    """Offset of the first character where the answers differ (None when identical)."""
    diff: str
    """A unified diff of the two answers (empty when identical)."""
    original_tokens: dict[str, int]
    replayed_tokens: dict[str, int]
    original_latency_ms: float
    replayed_latency_ms: float
    original_finish_reason: str | None
    replayed_finish_reason: str | None


class ReplayReport(BaseModel):
    """A replay of one session."""

    source_session_id: str
    branch_session_id: str
    mode: ReplayMode
    provider: str | None
    model: str | None
    turns: list[TurnComparison]
    identical: bool
    """Every answer and the whole transcript are the same as the original's."""
    first_divergent_turn: int | None
    seconds: float


@dataclass
class ReplayOptions:
    mode: ReplayMode = "deterministic"
    provider: str | None = None
    model: str | None = None
    agent_id: str | None = None
    situation: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Turn:
    inputs: list[Message]
    completion: Session.CompletionRecorded


def first_divergence(a: str, b: str) -> int | None:
    if a == b:
        return None
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _tokens(reply: ChatReply | None) -> dict[str, int]:
    usage = reply.usage if reply else None
    return {
        "input": usage.input_tokens if usage else 0,
        "output": usage.output_tokens if usage else 0,
    }


def transcript(ledger: Ledger, tenant_id: str, session_id: UUID | str) -> list[dict[str, Any]]:
    """A session's model-facing history as comparable data (roles and content, no ids)."""
    return [
        {"role": e.message.role, "content": [b.model_dump(mode="json") for b in e.message.content]}
        for e in ledger.list_messages(tenant_id, session_id, limit=1000).data
    ]


async def replay_session(
    ledger: Ledger, ctx: CommandContext, session_id: UUID, options: ReplayOptions
) -> ReplayReport:
    """Branch the session and re-run its history into the branch."""
    started = time.monotonic()
    if options.mode == "counterfactual" and options.provider is not None:
        ledger.chat_service.models.check(options.provider)  # before any branch exists
    events = await _run(lambda: ledger.engine.list_events(ctx.tenant_id, session_id))
    turns = [_turn_of(events, e) for e in events if _is_turn(e)]
    branch = await _run(
        lambda: ledger.fork_session(
            ctx,
            session_id,
            at_version=1,
            metadata={
                **events[0].metadata,
                "replay_of": str(session_id),
                "replay_mode": options.mode,
            },
            agent_id=options.agent_id,
            situation=options.situation,
        )
    )
    provider = options.provider
    model_name = f"replay-{uuid4().hex}"
    if options.mode == "deterministic":
        ledger.register_model(model_name, ReplayChatModel([t.completion.reply for t in turns]))
        provider = model_name
    settings = ChatSettings.model_validate(
        options.settings | ({"model": options.model} if options.model else {})
    )
    comparisons: list[TurnComparison] = []
    in_turn = {m.id for t in turns for m in t.inputs}
    replies = {_reply_id(events, t.completion) for t in turns}
    for event in events[1:]:
        if isinstance(event, Session.CompletionRecorded) and _is_turn(event):
            turn = next(t for t in turns if t.completion is event)
            comparisons.append(
                await _replay_turn(
                    ledger,
                    ctx,
                    branch.id,
                    turn,
                    len(comparisons),
                    provider,
                    settings,
                    deterministic=options.mode == "deterministic",
                )
            )
        elif isinstance(event, Session.MessageAppended):
            if event.message.id not in in_turn and event.message.id not in replies:
                await _run(
                    ledger.append_messages,
                    ctx,
                    branch.id,
                    [event.message.model_copy(update={"id": None})],
                )
        else:
            await _run(_reapply, ledger, ctx, branch.id, event)
    if options.mode == "deterministic":
        ledger.chat_service.models.unregister(model_name)
    same_transcript = await _run(transcript, ledger, ctx.tenant_id, session_id) == await _run(
        transcript, ledger, ctx.tenant_id, branch.id
    )
    divergent = next((c.index for c in comparisons if not c.identical), None)
    return ReplayReport(
        source_session_id=str(session_id),
        branch_session_id=str(branch.id),
        mode=options.mode,
        provider=None if options.mode == "deterministic" else options.provider,
        model=options.model,
        turns=comparisons,
        identical=divergent is None and same_transcript,
        first_divergent_turn=divergent,
        seconds=round(time.monotonic() - started, 6),
    )


async def _replay_turn(
    ledger: Ledger,
    ctx: CommandContext,
    branch_id: UUID,
    turn: _Turn,
    index: int,
    provider: str | None,
    settings: ChatSettings,
    *,
    deterministic: bool,
) -> TurnComparison:
    recorded = turn.completion
    # Deterministic: the recorded settings, model included. Counterfactual: the recorded
    # settings under the options, the model chosen anew unless the options name one.
    base = (
        recorded.settings if deterministic else recorded.settings.model_copy(update={"model": None})
    )
    turn_input = TurnInput(
        messages=[m.model_copy(update={"id": None}) for m in turn.inputs],
        settings=settings.over(base),
        provider=provider,
        remember=recorded.remember,
    )
    result = await ledger.chat_service.chat(ctx, branch_id, turn_input)
    original = recorded.reply.text
    completion = await _run(_completion, ledger, ctx.tenant_id, branch_id, result.completion_id)
    divergence = first_divergence(original, result.output)
    return TurnComparison(
        index=index,
        input="".join(m.text for m in turn.inputs),
        original=original,
        replayed=result.output,
        identical=divergence is None,
        first_divergence=divergence,
        diff="".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                result.output.splitlines(keepends=True),
                "original",
                "replayed",
            )
        ),
        original_tokens=_tokens(recorded.reply),
        replayed_tokens=_tokens(completion.reply if completion else None),
        original_latency_ms=recorded.latency_ms,
        replayed_latency_ms=completion.latency_ms if completion else 0.0,
        original_finish_reason=recorded.reply.finish_reason,
        replayed_finish_reason=result.finish_reason,
    )


def _is_turn(event: Any) -> bool:
    """A recorded call that answered input (suggestion calls answer none)."""
    if not isinstance(event, Session.CompletionRecorded):
        return False
    return bool(event.manifest.input_message_ids or event.input_messages)


def _turn_of(events: list[Any], completion: Session.CompletionRecorded) -> _Turn:
    if completion.input_messages:
        return _Turn(list(completion.input_messages), completion)
    wanted = set(completion.manifest.input_message_ids)
    inputs = [
        e.message
        for e in events
        if isinstance(e, Session.MessageAppended) and e.message.id in wanted
    ]
    return _Turn(inputs, completion)


def _reply_id(events: list[Any], completion: Session.CompletionRecorded) -> str | None:
    following = next(
        (e for e in events if e.originator_version == completion.originator_version + 1), None
    )
    if isinstance(following, Session.MessageAppended) and following.message.role == "assistant":
        return following.message.id
    return None


def _reapply(ledger: Ledger, ctx: CommandContext, branch_id: UUID, event: Any) -> None:
    if isinstance(event, Session.TitleChanged):
        ledger.update_session(ctx, branch_id, SessionUpdate(title=event.title))
    elif isinstance(event, Session.SituationUpdated):
        ledger.update_session(ctx, branch_id, SessionUpdate(situation=event.situation))
    elif isinstance(event, Session.MetadataUpdated):
        ledger.update_session(ctx, branch_id, SessionUpdate(metadata=event.patch), mode=event.mode)
    elif isinstance(event, Session.ContextUpdated):
        ledger.update_session(ctx, branch_id, SessionUpdate(context=event.patch), mode=event.mode)
    elif isinstance(event, Session.HistoryCleared):
        ledger.clear_history(ctx, branch_id)


def _completion(
    ledger: Ledger, tenant_id: str, session_id: UUID, completion_id: str
) -> Session.CompletionRecorded | None:
    for event in ledger.engine.events.get(session_id, desc=True):
        if isinstance(event, Session.CompletionRecorded) and event.completion_id == completion_id:
            return event
    return None


async def _run(function: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(lambda: function(*args))
