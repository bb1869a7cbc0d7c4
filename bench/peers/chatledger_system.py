"""chatledger through its Python API: `open_ledger(Settings(database_url=…))` and `Ledger`.

Projections run inline (the default): a write returns once its views are updated, so
`caught_up` only checks that no projection lags. The state at M messages is
`get_state(version=M + 1)` (version 1 is the session's `Created`).

A session is created by its first write, `create_session(…, messages=…)`, as the peers'
sessions are (the Agents SDK inserts its session row with the first items, LangGraph's
thread begins with its first checkpoint, the raw floor has no session row): one write,
one commit, per `append`.

`ChatledgerChat` runs a chat turn with `Ledger.chat(ctx, session_id, text)` on a ledger
whose default provider is OpenAI at the fake server's URL: the history recalled, the
request sent (chatledger always streams from the provider), the reply recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from bench.chatledger_runs import CTX, TENANT
from bench.databases import Target
from bench.sharegpt import Turn
from bench.storage import Storage, measure
from domain.content import TextBlock
from domain.message import Message


def _label(target: Target) -> str:
    return f"chatledger on {'SQLite' if target.backend == 'sqlite' else 'PostgreSQL'}"


class Handle:
    """A session of the suite: its id once its first write has created it."""

    id: UUID | None = None


class ChatledgerSystem:
    name = "chatledger"

    def __init__(self, target: Target) -> None:
        self.target = target
        self.label = _label(target)
        self.ledger = open_ledger(Settings(database_url=target.url))

    def create_session(self) -> Any:
        return Handle()

    def prepare(self, turns: Sequence[Turn]) -> list[Message]:
        return [Message(role=t.role, content=[TextBlock(text=t.text)]) for t in turns]

    def append(self, session: Handle, prepared: list[Message]) -> None:
        if session.id is None:
            session.id = self.ledger.create_session(CTX, title="bench", messages=prepared).id
        else:
            self.ledger.append_messages(CTX, session.id, prepared)

    def end_session(self, session: Any) -> None:
        pass

    def caught_up(self) -> None:
        lagging = [s.name for s in self.ledger.projection_status() if s.lag]
        if lagging:
            raise RuntimeError(f"projections behind after inline writes: {lagging}")

    def history(self, session: Handle) -> int:
        return len(self.ledger.get_state(TENANT, session.id).messages)

    def page(self, session: Handle, limit: int) -> int:
        return len(self.ledger.list_messages(TENANT, session.id, limit=limit, order="desc").data)

    def state_at(self, session: Handle, messages: int) -> int:
        return len(self.ledger.get_state(TENANT, session.id, version=messages + 1).messages)

    def view_names(self) -> list[str]:
        return [status.name for status in self.ledger.projection_status()]

    def rebuild_view(self, name: str) -> int:
        """Empty one view and rebuild it from the first event; notifications read."""
        return self.ledger.rebuild_projection(name)

    def close(self) -> None:
        self.ledger.close()

    def storage(self) -> Storage:
        return measure(self.target)


class ChatledgerChat:
    name = "chatledger"

    def __init__(self, target: Target, provider_url: str) -> None:
        self.label = f"{_label(target)}: `Ledger.chat`"
        self.ledger = open_ledger(
            Settings(
                database_url=target.url,
                default_provider="openai",
                openai_base_url=provider_url,
                openai_api_key="bench",
            )
        )

    def create_conversation(self) -> Any:
        return self.ledger.create_session(CTX, title="bench chat").id

    def turn(self, conversation: Any, text: str) -> str:
        return str(self.ledger.chat(CTX, conversation, text).output)

    def close(self) -> None:
        self.ledger.close()
