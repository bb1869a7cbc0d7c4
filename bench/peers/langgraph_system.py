"""LangGraph: a compiled `StateGraph(MessagesState)` with SqliteSaver or PostgresSaver.

A write is `graph.update_state(config, {"messages": [...]})`: the `add_messages` reducer
appends the messages and the checkpointer saves one checkpoint. It is the cheapest way to
append through a graph (`invoke` with a node that returns nothing saves two to three
checkpoints per call and took ~2.5x as long). Each checkpoint holds the whole message
list, so a write costs O(N) and a session's bytes grow as O(N²). Reads go through
`get_state` (the latest checkpoint, or one named by `checkpoint_id`: the state at M
messages); LangGraph has no paging, so a page is the last 50 of the loaded list.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from psycopg.rows import dict_row

from bench.databases import Target
from bench.sharegpt import Turn
from bench.storage import Storage, postgres_storage, sqlite_storage

MESSAGE_CLASSES: dict[str, type[BaseMessage]] = {
    "user": HumanMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
}


def open_checkpointer(target: Target) -> tuple[Any, Any, str]:
    """The connection, the checkpointer (its tables set up) and its label, for `target`."""
    connection: Any
    saver: Any
    if target.sqlite_path is not None:
        connection = sqlite3.connect(target.sqlite_path, check_same_thread=False)
        saver, label = SqliteSaver(connection), "LangGraph SqliteSaver"
    else:
        connection = psycopg.connect(
            target.postgres_dsn or "",
            autocommit=True,
            prepare_threshold=0,
            row_factory=dict_row,
        )
        saver, label = PostgresSaver(connection), "LangGraph PostgresSaver"
    saver.setup()
    return connection, saver, label


class LangGraphSystem:
    name = "langgraph"

    def __init__(self, target: Target) -> None:
        self.target = target
        self.connection, saver, self.label = open_checkpointer(target)
        builder = StateGraph(MessagesState)
        builder.add_node("reply", lambda state: {})
        builder.add_edge(START, "reply")
        builder.add_edge("reply", END)
        self.graph = builder.compile(checkpointer=saver)
        self.counts: dict[str, int] = {}
        self.checkpoints: dict[tuple[str, int], Any] = {}
        """The config of the checkpoint written when a thread reached a message count."""

    def create_session(self) -> str:
        thread = str(uuid.uuid4())
        self.counts[thread] = 0
        return thread

    def prepare(self, turns: Sequence[Turn]) -> list[BaseMessage]:
        return [MESSAGE_CLASSES[t.role](content=t.text) for t in turns]

    def append(self, session: str, prepared: list[BaseMessage]) -> None:
        config = self.graph.update_state(config_of(session), {"messages": prepared})
        self.counts[session] += len(prepared)
        self.checkpoints[(session, self.counts[session])] = config

    def end_session(self, session: str) -> None:
        for key in [k for k in self.checkpoints if k[0] == session]:
            del self.checkpoints[key]

    def caught_up(self) -> None:
        pass

    def history(self, session: str) -> int:
        return len(self.graph.get_state(config_of(session)).values["messages"])

    def page(self, session: str, limit: int) -> int:
        return len(self.graph.get_state(config_of(session)).values["messages"][-limit:])

    def state_at(self, session: str, messages: int) -> int:
        config = self.checkpoints[(session, messages)]
        return len(self.graph.get_state(config).values["messages"])

    def close(self) -> None:
        self.connection.close()

    def storage(self) -> Storage:
        if self.target.sqlite_path is not None:
            return sqlite_storage(self.target.sqlite_path)
        return postgres_storage(self.target.postgres_dsn or "", "public")


def config_of(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}
