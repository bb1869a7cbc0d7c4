"""Normalised content blocks: what a message is made of.

A message's content is a list of blocks, a pydantic union discriminated on
`type` (text, image, document, tool_call, tool_result, thinking). Sources of
binary content are discriminated on `kind`. Provider-specific extras never go
into core fields: they live in `provider_details`. Imports pydantic only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Block(BaseModel):
    """Common configuration of content blocks and their parts."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UrlSource(Block):
    kind: Literal["url"] = "url"
    url: str


class Base64Source(Block):
    kind: Literal["base64"] = "base64"
    data: str
    media_type: str


class FileSource(Block):
    """A file already uploaded to a provider's file store."""

    kind: Literal["file"] = "file"
    file_id: str
    provider: str


class TextSource(Block):
    kind: Literal["text"] = "text"
    text: str


MediaSource = Annotated[UrlSource | Base64Source | FileSource, Field(discriminator="kind")]
DocumentSource = Annotated[
    UrlSource | Base64Source | FileSource | TextSource, Field(discriminator="kind")
]


class Citation(Block):
    """A span of a source document that supports a piece of text."""

    cited_text: str
    document_index: int | None = None
    document_title: str | None = None
    start: int | None = None
    end: int | None = None


class TextBlock(Block):
    type: Literal["text"] = "text"
    text: str
    citations: list[Citation] | None = None
    provider_details: dict[str, Any] | None = None


class ImageBlock(Block):
    type: Literal["image"] = "image"
    source: MediaSource
    detail: str | None = None
    provider_details: dict[str, Any] | None = None


class DocumentBlock(Block):
    type: Literal["document"] = "document"
    source: DocumentSource
    media_type: str = "application/pdf"
    title: str | None = None
    provider_details: dict[str, Any] | None = None


class ToolCallBlock(Block):
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] | None = None
    arguments_raw: str | None = None
    """The arguments exactly as the provider sent them (OpenAI sends a JSON string)."""
    provider_details: dict[str, Any] | None = None


ToolResultPart = Annotated[TextBlock | ImageBlock | DocumentBlock, Field(discriminator="type")]


class ToolResultBlock(Block):
    type: Literal["tool_result"] = "tool_result"
    tool_call_id: str
    name: str | None = None
    content: list[ToolResultPart] = Field(default_factory=list)
    is_error: bool = False
    provider_details: dict[str, Any] | None = None


class ThinkingBlock(Block):
    type: Literal["thinking"] = "thinking"
    text: str
    signature: str | None = None
    redacted_data: str | None = None
    provider: str | None = None
    """Who produced it: reasoning is replayed only to the provider that made it."""
    provider_details: dict[str, Any] | None = None


ContentBlock = Annotated[
    TextBlock | ImageBlock | DocumentBlock | ToolCallBlock | ToolResultBlock | ThinkingBlock,
    Field(discriminator="type"),
]
