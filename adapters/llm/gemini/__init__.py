"""The Gemini generateContent adapter: `request` builds the JSON, `reply` reads it, `stream`
turns SSE chunks into deltas, `model` is the `ChatModel` itself."""

from adapters.llm.gemini.model import GeminiChatModel
from adapters.llm.gemini.reply import parse_response
from adapters.llm.gemini.request import build_invocation

__all__ = ["GeminiChatModel", "build_invocation", "parse_response"]
