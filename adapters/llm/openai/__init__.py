"""The OpenAI Chat Completions adapter (also vLLM, Ollama and llama.cpp): `wire` builds and
reads the JSON, `stream` turns SSE chunks into deltas, `model` is the `ChatModel` itself."""

from adapters.llm.openai.model import OpenAIChatModel
from adapters.llm.openai.wire import build_invocation, parse_response

__all__ = ["OpenAIChatModel", "build_invocation", "parse_response"]
