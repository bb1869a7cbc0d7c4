"""How many SQL statements chatledger's writes make, counted rather than timed.

`python -m bench.statement_counts` counts the calls to SQLite's `Cursor.execute`,
`Cursor.executemany` and `Connection.execute` (one `executemany` counts once, whatever
its rows) under `sys.setprofile`, in every thread, for three writes on a fresh SQLite file:
a one-message append, a 6-message ShareGPT conversation created with its messages, and a
chat turn against the fake provider (its reads included). A count does not drift with
the machine's speed, so two checkouts compare exactly.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from bench.chat_ledger import chat_ledger
from bench.chatledger_runs import CTX
from bench.databases import fresh
from bench.peers.chatledger_system import ChatledgerSystem
from bench.sharegpt import corpus

_STATEMENTS = {"Cursor.execute", "Cursor.executemany", "Connection.execute"}


@contextmanager
def counting() -> Iterator[list[str]]:
    """The statements made, by name, while the block runs (in any thread)."""
    made: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__qualname__", "") in _STATEMENTS:
            made.append(arg.__qualname__)

    hook: Callable[..., Any] = profile
    sys.setprofile(hook)
    threading.setprofile(hook)
    try:
        yield made
    finally:
        sys.setprofile(None)
        threading.setprofile(None)


def main() -> None:
    data = corpus()
    with fresh("sqlite", "statements", postgres_url="") as target:
        system = ChatledgerSystem(target)
        try:
            conversations = [d for d in data.dialogues if len(d) == 6][:20]
            prepared = [system.prepare(d) for d in conversations]
            for messages in prepared[:5]:  # warm-up
                system.append(system.create_session(), messages)
            with counting() as made:
                for messages in prepared[5:]:
                    system.append(system.create_session(), messages)
            print(f"a 6-message conversation, created with them: {len(made) / 15:g}")
            session = system.create_session()
            singles = [system.prepare([turn]) for turn in data.turns[:60]]
            for message in singles[:20]:
                system.append(session, message)
            with counting() as made:
                for message in singles[20:]:
                    system.append(session, message)
            print(f"a one-message append: {len(made) / 40:g}")
        finally:
            system.close()
    with chat_ledger("sqlite", "statements_chat", postgres_url="") as ledger:
        session_id = ledger.create_session(CTX, title="turns").id
        for i in range(5):
            ledger.chat(CTX, session_id, f"warm-up {i}")
        with counting() as made:
            for i in range(10):
                ledger.chat(CTX, session_id, f"question {i}")
        many = made.count("Cursor.executemany") / 10
        print(f"a chat turn, reads included: {len(made) / 10:g} ({many:g} executemany)")


if __name__ == "__main__":
    main()
