"""What the peer suite asks of a system, and the systems it knows.

A system is one storage engine for chat messages on one fresh database: chatledger, a
peer (LangGraph, the Agents SDK) or the raw driver. `prepare` turns ShareGPT turns into
the system's own message objects outside the timed region; `append` is one write of
those messages (one message, or a whole conversation: the bulk path); the reads return
how many messages they loaded, so the harness can check them.

A chat system (`ChatSystem`) is the same system used the way an application runs a chat
turn: the user's text in, the model asked with the conversation so far, its reply stored.
Every chat system talks to the same OpenAI-compatible provider (`bench.fake_openai`); the
raw floor's place is taken by a direct call to that provider, which stores nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bench.databases import Target
from bench.sharegpt import Turn
from bench.storage import Storage


class NotSupportedError(Exception):
    """The system has no such operation (the figure is reported as "n/a")."""


class System(Protocol):
    name: str
    """`chatledger`, `raw`, `langgraph` or `agents-sdk`."""
    label: str
    """What exactly runs, for the tables (e.g. `LangGraph SqliteSaver`)."""

    def create_session(self) -> Any: ...

    def prepare(self, turns: Sequence[Turn]) -> Any: ...

    def append(self, session: Any, prepared: Any) -> None:
        """One durable write of the prepared messages."""
        ...

    def end_session(self, session: Any) -> None:
        """Release what the session holds (the Agents SDK's connections); usually nothing."""
        ...

    def caught_up(self) -> None:
        """Return once every derived view includes every write (chatledger's projections)."""
        ...

    def history(self, session: Any) -> int:
        """Load the whole history; the number of messages."""
        ...

    def page(self, session: Any, limit: int) -> int:
        """Load the newest `limit` messages; how many."""
        ...

    def state_at(self, session: Any, messages: int) -> int:
        """Load the conversation as it was when it held `messages` messages; how many."""
        ...

    def close(self) -> None: ...

    def storage(self) -> Storage:
        """Bytes on disk, measured after `close`."""
        ...


Factory = Callable[[Target], System]


class ChatSystem(Protocol):
    name: str
    """The name of the `System` it goes with (`raw` for the direct call)."""
    label: str

    def create_conversation(self) -> Any: ...

    def turn(self, conversation: Any, text: str) -> str:
        """One chat turn: `text` from the user; the model's reply, once it is stored."""
        ...

    def close(self) -> None: ...


ChatFactory = Callable[[Target, str], ChatSystem]
"""A chat system on a fresh database, given the provider's base URL (`…/v1`)."""


def factories() -> dict[str, Factory]:
    """The systems to measure, in the order of the tables.

    The peers are imported here, when asked for, so the harness (and its smoke test)
    works in an install without the `bench` extra.
    """
    from bench.peers.chatledger_system import ChatledgerSystem
    from bench.peers.raw_system import RawSystem

    systems: dict[str, Factory] = {"chatledger": ChatledgerSystem, "raw": RawSystem}
    return systems | _installed(
        langgraph=("bench.peers.langgraph_system", "LangGraphSystem"),
        agents_sdk=("bench.peers.agents_system", "AgentsSystem"),
    )


def chat_factories() -> dict[str, ChatFactory]:
    """The chat systems, by the name of the system each goes with (`raw`: the direct call).

    Imported when asked for, as in `factories`: LangGraph's needs langchain-openai, the
    Agents SDK's the SDK, both from the `bench` extra.
    """
    from bench.peers.chatledger_system import ChatledgerChat
    from bench.peers.direct_chat import DirectChat

    systems: dict[str, ChatFactory] = {"chatledger": ChatledgerChat, "raw": DirectChat}
    return systems | _installed(
        langgraph=("bench.peers.langgraph_chat", "LangGraphChat"),
        agents_sdk=("bench.peers.agents_system", "AgentsChat"),
    )


def _installed(**peers: tuple[str, str]) -> dict[str, Any]:
    """Each peer's class (`module`, `name`) whose module imports, by system name
    (`agents_sdk` is the system `agents-sdk`)."""
    found: dict[str, Any] = {}
    for system, (module, name) in peers.items():
        try:
            found[system.replace("_", "-")] = getattr(importlib.import_module(module), name)
        except ImportError:
            continue
    return found
