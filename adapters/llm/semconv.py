"""The OpenTelemetry names we emit for model calls, in one place (llm-wire-formats §1.1).

Values follow opentelemetry-semantic-conventions 0.66b2, whose GenAI constants live under the
private `_incubating` path and are moving to their own repository; copying the strings here
keeps that path out of production code, and `tests/unit/test_semconv_names.py` asserts each
one still equals its upstream constant. Names marked "ours" have no upstream constant.
Imports nothing.
"""

from __future__ import annotations

from typing import Final

# Span attributes set at span start (samplers may look at them).
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

# Request attributes, set only for settings actually sent.
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"

# Response attributes, set when the call ends.
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
"""0.66b2 name; semconv-genai main renames it `gen_ai.usage.cache_write.input_tokens`."""
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
ERROR_TYPE: Final = "error.type"

# Opt-in content attributes (JSON strings on spans).
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

# Metrics and their split.
GEN_AI_CLIENT_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
GEN_AI_CLIENT_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"

# Well-known values.
OPERATION_CHAT: Final = "chat"
OPERATION_GENERATE_CONTENT: Final = "generate_content"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_GCP_GEN_AI: Final = "gcp.gen_ai"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"
OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"
ERROR_TYPE_OTHER: Final = "_OTHER"
ERROR_TYPE_CANCELLED: Final = "cancelled"
"""Ours: the consumer stopped reading, or the task was cancelled, before the reply ended."""
FINISH_REASON_ERROR: Final = "error"
"""The finish-reason slot of a stream that died before its reason arrived."""

# Retry events on the call's span (ours, llm-wire-formats §6.5).
GEN_AI_RETRY_EVENT: Final = "gen_ai.retry"
RETRY_ATTEMPT: Final = "retry.attempt"
RETRY_DELAY_S: Final = "retry.delay_s"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"

# Histogram bucket advice, as opentelemetry-util-genai gives it (llm-wire-formats §1.7).
DURATION_BUCKETS_S: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
