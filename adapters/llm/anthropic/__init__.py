"""The Anthropic Messages adapter: `wire` builds and reads the JSON, `stream` turns SSE
events into deltas, `model` is the `ChatModel` itself."""

from adapters.llm.anthropic.model import AnthropicChatModel
from adapters.llm.anthropic.wire import build_invocation, parse_response

__all__ = ["AnthropicChatModel", "build_invocation", "parse_response"]
