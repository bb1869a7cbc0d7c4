"""The OpenAPI declaration of error responses: every problem as `application/problem+json`.

Routes declare the statuses they may answer with `problem_responses(...)`; the app
passes its generated document through `problem_openapi` so that each error response
names the `Problem` schema under its real media type.
"""

from __future__ import annotations

from typing import Any

from adapters.http.errors import PROBLEM_MEDIA_TYPE
from adapters.http.schemas import Problem

_DESCRIPTIONS = {
    404: "No such session in this tenant (or a malformed id)",
    409: "`If-Match` names a version that is no longer current",
    410: "The session was deleted",
    413: "The body or a message is over the size limit",
    415: "The body is not JSON",
    422: "Invalid input; `field` names it",
    429: "The model provider's rate limit held after retries; `Retry-After` when it said",
    502: "The model provider failed (the failure is recorded as `Session.CompletionFailed`)",
    504: "The model provider did not answer in time (recorded as `Session.CompletionFailed`)",
}


def problem_responses(
    *statuses: int, descriptions: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses (media type fixed in `problem_openapi`);
    `descriptions` replace the default ones (which speak of sessions)."""
    described = _DESCRIPTIONS | (descriptions or {})
    return {
        status: {"model": Problem, "description": described.get(status, "Error")}
        for status in statuses
    }


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare error responses as `application/problem+json`, not `application/json`.

    FastAPI's default 422 (`HTTPValidationError`) is not what `validation_error_handler`
    answers, so it becomes a `Problem` too.
    """
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                body_schema = content.get("application/json", {}).get("schema", {})
                ref = str(body_schema.get("$ref", ""))
                if ref.endswith("/HTTPValidationError"):
                    body_schema["$ref"] = ref.replace("HTTPValidationError", "Problem")
                    response["description"] = _DESCRIPTIONS[422]
                    ref = body_schema["$ref"]
                if status[:1] in "45" and ref.endswith("/Problem"):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "HTTPValidationError" in components:
        components.pop("HTTPValidationError")
        components.pop("ValidationError", None)
        components.setdefault("Problem", Problem.model_json_schema())
    return schema
