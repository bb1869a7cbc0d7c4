"""The OpenAI Agents SDK's sessions: `SQLiteSession` on SQLite, `SQLAlchemySession` on
PostgreSQL (SQLAlchemy's asyncio engine over psycopg 3).

A session object per conversation, as the SDK is used (`SQLiteSession(id, path)`); a
write is `add_items([...])` of Responses-API input items (`{"role", "content"}`), a page
`get_items(limit=50)` (the newest 50). The SDK keeps no earlier states, so there is no
time travel. Its API is async: each call runs to completion on an event loop of this
system's own (`run_until_complete`), which the timings include (~0.05 ms).
SQLiteSession opens its database in WAL mode with SQLite's default synchronous=FULL.

`AgentsChat` runs a chat turn as the SDK does: `Runner.run(agent, text, session=session)`
with an `Agent` whose model is `OpenAIChatCompletionsModel` on an
`AsyncOpenAI(base_url=…)` client, tracing disabled; the session (as above) gives the
history and stores the new items.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
from agents.memory.sqlite_session import SQLiteSession
from openai import AsyncOpenAI
from sqlalchemy.ext.asyncio import create_async_engine

from bench.chat_turns import MODEL
from bench.databases import Target
from bench.peers.system import NotSupportedError
from bench.sharegpt import Turn
from bench.storage import Storage, postgres_storage, sqlite_storage


class AgentsSystem:
    name = "agents-sdk"

    def __init__(self, target: Target) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.engine: Any = None
        if target.sqlite_path is None:
            self.label = "Agents SDK SQLAlchemySession"
            url = (target.postgres_dsn or "").replace("postgresql://", "postgresql+psycopg://")
            self.engine = create_async_engine(url)
            # Create the tables once, outside any timed call, as an application would.
            setup = SQLAlchemySession("setup", engine=self.engine, create_tables=True)
            self.loop.run_until_complete(setup.get_items(limit=1))
        else:
            self.label = "Agents SDK SQLiteSession"

    def create_session(self) -> Any:
        session_id = str(uuid.uuid4())
        if self.engine is None:
            return SQLiteSession(session_id, self.target.sqlite_path or "")
        return SQLAlchemySession(session_id, engine=self.engine)

    def prepare(self, turns: Sequence[Turn]) -> list[dict[str, str]]:
        return [{"role": t.role, "content": t.text} for t in turns]

    def append(self, session: Any, prepared: list[dict[str, str]]) -> None:
        self.loop.run_until_complete(session.add_items(prepared))

    def end_session(self, session: Any) -> None:
        if isinstance(session, SQLiteSession):
            session.close()

    def caught_up(self) -> None:
        pass

    def history(self, session: Any) -> int:
        return len(self.loop.run_until_complete(session.get_items()))

    def page(self, session: Any, limit: int) -> int:
        return len(self.loop.run_until_complete(session.get_items(limit=limit)))

    def state_at(self, session: Any, messages: int) -> int:
        raise NotSupportedError("the Agents SDK keeps only the current list of items")

    def close(self) -> None:
        if self.engine is not None:
            self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()

    def storage(self) -> Storage:
        if self.target.sqlite_path is not None:
            return sqlite_storage(self.target.sqlite_path)
        return postgres_storage(self.target.postgres_dsn or "", "public")


class AgentsChat:
    name = "agents-sdk"

    def __init__(self, target: Target, provider_url: str) -> None:
        set_tracing_disabled(True)
        self.sessions = AgentsSystem(target)
        self.label = f"{self.sessions.label}, `Runner.run`"
        self.client = AsyncOpenAI(base_url=provider_url, api_key="bench")
        model = OpenAIChatCompletionsModel(model=MODEL, openai_client=self.client)
        self.agent: Agent[Any] = Agent(name="bench", model=model)
        self.opened: list[Any] = []

    def create_conversation(self) -> Any:
        session = self.sessions.create_session()
        self.opened.append(session)
        return session

    def turn(self, conversation: Any, text: str) -> str:
        run = Runner.run(self.agent, text, session=conversation)
        return str(self.sessions.loop.run_until_complete(run).final_output)

    def close(self) -> None:
        for session in self.opened:
            self.sessions.end_session(session)
        self.sessions.loop.run_until_complete(self.client.close())
        self.sessions.close()
