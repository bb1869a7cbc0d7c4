"""LangGraph running a chat turn: `StateGraph(MessagesState)` with one model node.

The node is langchain-openai's `ChatOpenAI(base_url=…)` invoked on the whole message
list (`{"messages": [model.invoke(state["messages"])]}`), the graph compiled with the
checkpointer of `langgraph_system.open_checkpointer` (SqliteSaver or PostgresSaver). A turn
is one `graph.invoke({"messages": [HumanMessage(text)]}, config)` on the conversation's
thread: the checkpointer loads the thread's state, saves a checkpoint for the input and
one after the node, each holding the whole list.
"""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, MessagesState, StateGraph

from bench.chat_turns import MODEL
from bench.databases import Target
from bench.peers.langgraph_system import config_of, open_checkpointer


class LangGraphChat:
    name = "langgraph"

    def __init__(self, target: Target, provider_url: str) -> None:
        self.connection, saver, label = open_checkpointer(target)
        self.label = f"{label}, `ChatOpenAI` node"
        model = ChatOpenAI(model=MODEL, base_url=provider_url, api_key="bench")

        def reply(state: MessagesState) -> dict[str, Any]:
            return {"messages": [model.invoke(state["messages"])]}

        builder = StateGraph(MessagesState)
        builder.add_node("model", reply)
        builder.add_edge(START, "model")
        builder.add_edge("model", END)
        self.graph = builder.compile(checkpointer=saver)

    def create_conversation(self) -> str:
        return str(uuid.uuid4())

    def turn(self, conversation: str, text: str) -> str:
        state = self.graph.invoke({"messages": [HumanMessage(text)]}, config_of(conversation))
        return str(state["messages"][-1].content)

    def close(self) -> None:
        self.connection.close()
