"""Reading Server-Sent Events the way a client does: frames of `event:` and `data:` lines.

A support module for tests that consume chatledger's streamed turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    event: str
    data: Any
    """The `data` lines joined and parsed as JSON."""


def parse_frame(block: str) -> Frame:
    """One frame (the text between blank lines)."""
    event, data = "message", []
    for line in block.splitlines():
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return Frame(event, json.loads("\n".join(data)))


def parse_stream(text: str) -> list[Frame]:
    """Every frame of a whole SSE body (comment-only blocks skipped)."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return [parse_frame(b) for b in blocks if any(ln.startswith("data") for ln in b.splitlines())]
