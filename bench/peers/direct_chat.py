"""The floor of a chat turn: one direct call to the provider, nothing stored.

`bench.chat_turns.Direct` (the chatledger-only suite's direct client): an
`httpx.AsyncClient` POST of `{"model", "messages"}` to `/v1/chat/completions`, one JSON
reply, with the conversation kept in a Python list. It runs on an event loop of this
system's own (`run_until_complete`, included in the timings, as for the Agents SDK). The
database it is given stays empty: it takes the raw floor's place in the chat-turn phase.
"""

from __future__ import annotations

import asyncio

import httpx

from bench.chat_turns import Direct
from bench.databases import Target


class DirectChat:
    name = "raw"
    label = "direct call: httpx POST, history in memory"

    def __init__(self, target: Target, provider_url: str) -> None:
        self.url = provider_url
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(timeout=60)

    def create_conversation(self) -> Direct:
        return Direct(self.client, self.url)

    def turn(self, conversation: Direct, text: str) -> str:
        self.loop.run_until_complete(conversation.json_turn(text))
        return conversation.messages[-1]["content"]

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
