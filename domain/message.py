"""Messages: a role and a list of content blocks.

A message's `content` accepts a plain string (one text block) or a list of
blocks. `id` is assigned by the engine when the message is recorded; `origin`
says where a message came from when it was copied, merged or imported.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from domain.base import Immutable
from domain.content import ContentBlock, TextBlock

Role = Literal["system", "user", "assistant", "tool"]


class Message(Immutable):
    """One message of a session's history."""

    role: Role
    content: list[ContentBlock]
    id: str | None = None
    name: str | None = None
    """Optional author name (OpenAI `name`, a tool's name)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    origin: dict[str, Any] | None = None
    """Provenance of a copied, merged or imported message (source session and version)."""

    @field_validator("content", mode="before")
    @classmethod
    def _text_is_one_block(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [{"type": "text", "text": value}]
        return value

    @classmethod
    def user(cls, text: str, **fields: Any) -> Message:
        return cls(role="user", content=[TextBlock(text=text)], **fields)

    @classmethod
    def assistant(cls, text: str, **fields: Any) -> Message:
        return cls(role="assistant", content=[TextBlock(text=text)], **fields)

    @classmethod
    def system(cls, text: str, **fields: Any) -> Message:
        return cls(role="system", content=[TextBlock(text=text)], **fields)

    @property
    def text(self) -> str:
        """The concatenated text blocks (for display and previews)."""
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))
