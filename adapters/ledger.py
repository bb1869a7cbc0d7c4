"""The Python API: `Ledger`, one object over one database.

It is `LedgerCore` (sessions, messages, events, time travel, projections) with
agents (`AgentsAPI`) and chat (`ChatAPI`) mixed in. Build one with
`adapters.bootstrap.open_ledger`.
"""

from __future__ import annotations

from adapters.ledger_agents import AgentsAPI
from adapters.ledger_chat import ChatAPI
from adapters.ledger_core import AppendResult, FullState, LedgerCore, Views, session_uuid


class Ledger(AgentsAPI, ChatAPI):
    """chatledger's Python API over one database."""

    def close(self) -> None:
        """Stop the chat loop thread, if one ran, and close the database pools."""
        self.close_portal()
        super().close()


__all__ = ["AppendResult", "FullState", "Ledger", "LedgerCore", "Views", "session_uuid"]
