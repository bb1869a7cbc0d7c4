"""A turn's first model call, prepared: everything that can refuse it, checked first.

`prepare` reads the session (404, 410), its agent and, when the turn recalls
it, the model-facing history; adds the registered tools to the turn's own;
chooses the provider (the turn's, the agent's, then the default) and renders
the prompt (`domain.turns.prepare_turn`, which refuses bad templates and
input). With `check_provider` it also refuses an unknown provider and content
the provider's API cannot take, so nothing is refused once a stream has begun.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from adapters.llm.registry import ModelRegistry
from adapters.llm.wire import WIRE_PROVIDERS, build_invocation
from adapters.tools import ToolBox
from domain.agent import AgentState
from domain.context import CommandContext
from domain.errors import AgentNotFoundError
from domain.ports import TemplateRenderer
from domain.session import SessionState
from domain.turns import PreparedTurn, Recalled, TurnInput, prepare_turn
from projections.history import HistoryQuery

if TYPE_CHECKING:
    from adapters.ledger import Ledger


def prepare(
    ledger: Ledger,
    models: ModelRegistry,
    toolbox: ToolBox,
    renderer: TemplateRenderer,
    ctx: CommandContext,
    session_id: str | UUID,
    turn: TurnInput,
    *,
    check_provider: bool = True,
) -> tuple[SessionState, PreparedTurn]:
    """The session and the turn's first model call, or the refusal (404, 410, 422 …)."""
    session = ledger.get_session(ctx.tenant_id, session_id)
    agent: AgentState | None = None
    if session.agent_id:
        try:
            agent = ledger.get_agent(ctx.tenant_id, session.agent_id)
        except AgentNotFoundError:
            agent = None  # an agent managed elsewhere: the session only names it
    history = (
        ledger.history.list_messages(
            HistoryQuery(
                tenant_id=ctx.tenant_id,
                session_id=str(session.id),
                after_version=session.cleared_at_version,
                until_version=session.version,
                limit=None,
            )
        ).data
        if turn.recall
        else []
    )
    if turn.recall and len(history) != session.message_count:
        # The view is behind (a worker lags, or it is being rebuilt): read the log.
        history = ledger.get_state(ctx.tenant_id, session.id, version=session.version).messages
    turn = turn.model_copy(update={"tools": [*toolbox.definitions(), *turn.tools]})
    provider = turn.provider or (agent.provider if agent and agent.provider else None)
    provider = provider or models.default_provider
    prepared = prepare_turn(
        session,
        agent,
        [Recalled(entry.version, entry.message) for entry in history],
        turn,
        renderer=renderer,
        default_provider=provider,
        default_model=models.default_model(provider),
    )
    if prepared.input_messages:
        ledger.engine.checked_messages(prepared.input_messages)  # sizes, before any model call
    if check_provider:
        models.check(prepared.provider)
        if prepared.provider in WIRE_PROVIDERS:
            # Content the provider's API cannot take is refused now, before streaming.
            build_invocation(prepared.provider, prepared.request)
    return session, prepared
