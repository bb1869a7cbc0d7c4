"""Our copies of the OpenTelemetry names equal the constants semantic-conventions ships.

The GenAI constants sit under the private `_incubating` path and are moving repositories; this
test is what notices when an upgrade renames one.
"""

from __future__ import annotations

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as upstream_gen_ai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as upstream_metrics
from opentelemetry.semconv.attributes import (
    error_attributes,
    http_attributes,
    server_attributes,
)

from adapters.llm import semconv

GEN_AI_ATTRIBUTES = [
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_CONVERSATION_ID",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_REQUEST_TOP_P",
    "GEN_AI_REQUEST_TOP_K",
    "GEN_AI_REQUEST_STOP_SEQUENCES",
    "GEN_AI_REQUEST_SEED",
    "GEN_AI_REQUEST_STREAM",
    "GEN_AI_OUTPUT_TYPE",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS",
    "GEN_AI_USAGE_REASONING_OUTPUT_TOKENS",
    "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OUTPUT_MESSAGES",
    "GEN_AI_SYSTEM_INSTRUCTIONS",
    "GEN_AI_TOOL_DEFINITIONS",
    "GEN_AI_TOKEN_TYPE",
]


@pytest.mark.parametrize("name", GEN_AI_ATTRIBUTES)
def test_gen_ai_attribute_names_match_semantic_conventions(name: str) -> None:
    assert getattr(semconv, name) == getattr(upstream_gen_ai, name)


@pytest.mark.parametrize("name", ["GEN_AI_CLIENT_OPERATION_DURATION", "GEN_AI_CLIENT_TOKEN_USAGE"])
def test_metric_names_match_semantic_conventions(name: str) -> None:
    assert getattr(semconv, name) == getattr(upstream_metrics, name)


OPERATIONS = upstream_gen_ai.GenAiOperationNameValues
PROVIDERS = upstream_gen_ai.GenAiProviderNameValues
TOKEN_TYPES = upstream_gen_ai.GenAiTokenTypeValues
OUTPUT_TYPES = upstream_gen_ai.GenAiOutputTypeValues


@pytest.mark.parametrize(
    ("ours", "upstream"),
    [
        (semconv.ERROR_TYPE, error_attributes.ERROR_TYPE),
        (semconv.ERROR_TYPE_OTHER, error_attributes.ErrorTypeValues.OTHER.value),
        (semconv.SERVER_ADDRESS, server_attributes.SERVER_ADDRESS),
        (semconv.SERVER_PORT, server_attributes.SERVER_PORT),
        (semconv.HTTP_RESPONSE_STATUS_CODE, http_attributes.HTTP_RESPONSE_STATUS_CODE),
        (semconv.OPERATION_CHAT, OPERATIONS.CHAT.value),
        (semconv.OPERATION_GENERATE_CONTENT, OPERATIONS.GENERATE_CONTENT.value),
        (semconv.PROVIDER_OPENAI, PROVIDERS.OPENAI.value),
        (semconv.PROVIDER_ANTHROPIC, PROVIDERS.ANTHROPIC.value),
        (semconv.PROVIDER_GCP_GEMINI, PROVIDERS.GCP_GEMINI.value),
        (semconv.PROVIDER_GCP_VERTEX_AI, PROVIDERS.GCP_VERTEX_AI.value),
        (semconv.PROVIDER_GCP_GEN_AI, PROVIDERS.GCP_GEN_AI.value),
        (semconv.TOKEN_TYPE_INPUT, TOKEN_TYPES.INPUT.value),
        (semconv.TOKEN_TYPE_OUTPUT, TOKEN_TYPES.OUTPUT.value),
        (semconv.OUTPUT_TYPE_TEXT, OUTPUT_TYPES.TEXT.value),
        (semconv.OUTPUT_TYPE_JSON, OUTPUT_TYPES.JSON.value),
    ],
)
def test_stable_names_and_well_known_values_match_semantic_conventions(
    ours: str, upstream: str
) -> None:
    assert ours == upstream
