"""Every error the HTTP API answers, as `application/problem+json`.

This module owns the one table from engine error class to status code, the
handlers FastAPI calls for engine errors, request validation errors, routing
errors (404/405) and unexpected exceptions (their OpenAPI declaration is in
`openapi.py`). Problem bodies never echo client input raw: text is escaped
so that NUL characters and lone surrogates cannot reach a response.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ExceptionHandler, Scope

from adapters.http.schemas import Problem
from adapters.llm.errors import UnsupportedContentError
from adapters.master_key import MasterKeyError
from adapters.signing import SigningKeyError
from domain.errors import (
    AgentDeletedError,
    AgentNotFoundError,
    ApiKeyNotFoundError,
    AuthenticationError,
    CompletionNotFoundError,
    EngineError,
    InvalidInputError,
    LimitExceededError,
    MessageNotFoundError,
    PermissionDeniedError,
    ProviderError,
    ProviderNotConfiguredError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    SessionDeletedError,
    SessionNotFoundError,
    TamperingDetectedError,
    TemplateError,
    TooManyRequestsError,
    VersionConflictError,
)

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class UnsupportedMediaTypeError(EngineError):
    """A body under a media type the route does not take (a bundle sent as a form).

    Routes that take JSON answer their 415 in `validation_error_handler`."""

    title = "Unsupported media type"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.field = "body"


STATUS_BY_ERROR: dict[type[EngineError], int] = {
    SessionNotFoundError: 404,
    SessionDeletedError: 410,
    MessageNotFoundError: 404,
    CompletionNotFoundError: 404,
    AgentNotFoundError: 404,
    AgentDeletedError: 410,
    ApiKeyNotFoundError: 404,
    VersionConflictError: 409,
    TamperingDetectedError: 409,
    InvalidInputError: 422,
    LimitExceededError: 413,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    TooManyRequestsError: 429,
    UnsupportedMediaTypeError: 415,
    TemplateError: 422,
    ProviderNotConfiguredError: 422,
    UnsupportedContentError: 422,
    ProviderRateLimitError: 429,
    ProviderTimeoutError: 504,
    ProviderError: 502,
    EngineError: 400,
}
"""The one table from error class to status; subclasses take their nearest ancestor's.

`UnsupportedContentError` is a `ProviderError`, but nothing was sent: the request holds
content the provider's API cannot take, so it is the client's to fix (422, not 502)."""

_UNSAFE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_SCALAR_TYPE_LABELS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def status_of(error: EngineError) -> int:
    """The HTTP status of an engine error (its class or nearest listed ancestor)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def safe_text(text: str) -> str:
    """`text` with control characters and lone surrogates escaped as `\\uXXXX`."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class ProblemResponse(Response):
    """An RFC 9457 problem document."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    """A problem+json response; every text in it is made safe first."""
    problem = Problem(
        title=safe_text(title or HTTPStatus(status).phrase),
        status=status,
        detail=safe_text(detail),
        field=None if field is None else safe_text(field),
        errors=errors,
    )
    return ProblemResponse(problem.model_dump(exclude_none=True), status, headers=headers)


def _field_parts(loc: Sequence[str | int]) -> list[str | int]:
    """The parts of a location that name input, without pydantic's union member labels
    (`str`, `list[...]`, model names such as `MessageIn`)."""
    return [
        item
        for item in loc
        if isinstance(item, int)
        or not (item[:1].isupper() or "[" in item or item in _SCALAR_TYPE_LABELS)
    ]


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "MessagesIn", "messages", 0, "role")` as `body.messages[0].role`."""
    path = ""
    for item in _field_parts(loc):
        if isinstance(item, int):
            path += f"[{item}]"
        else:
            path += f".{item}" if path else item
    return path


def _message(error: dict[str, Any]) -> str:
    """An error's message, without the input value the few pydantic messages quote."""
    if error["type"] == "union_tag_invalid":
        expected = (error.get("ctx") or {}).get("expected_tags", "")
        return f"Input tag does not match any of the expected tags: {expected}"
    return safe_text(str(error["msg"]))


def _validation_entries(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """loc, msg and type of each error; never `input` or `ctx`, which echo the client."""
    return [
        {
            "loc": [item if isinstance(item, int) else safe_text(str(item)) for item in e["loc"]],
            "msg": _message(e),
            "type": str(e["type"]),
        }
        for e in errors
    ]


def is_json_media_type(content_type: str | None) -> bool:
    """True for `application/json` and `application/*+json`, parameters aside."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def problem_headers(error: EngineError) -> dict[str, str] | None:
    """A `Retry-After` header for a limit (ours or a provider's) that said how long to wait.

    A 401 carries the `WWW-Authenticate` challenge instead."""
    if isinstance(error, AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="chatledger"'}
    wait = getattr(error, "retry_after", None)
    if not isinstance(error, ProviderRateLimitError | TooManyRequestsError) or wait is None:
        return None
    return {"Retry-After": str(max(0, math.ceil(wait)))}


async def engine_error_handler(_: Request, error: Exception) -> Response:
    assert isinstance(error, EngineError)
    return problem_response(
        status_of(error),
        error.detail,
        title=type(error).title,
        field=getattr(error, "field", None),
        headers=problem_headers(error),
    )


async def validation_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    raw: list[dict[str, Any]] = list(error.errors())
    # Of a union's alternatives, the error that got deepest into the input is the telling one.
    first = max(raw, key=lambda e: len(_field_parts(e["loc"])), default=None) or {
        "loc": ("body",),
        "msg": "is invalid",
        "type": "value_error",
    }
    loc = tuple(first["loc"])
    if first["type"] == "json_invalid":
        context = first.get("ctx")
        reason = context.get("error") if isinstance(context, dict) else "JSON decode error"
        where = f" at position {loc[1]}" if len(loc) > 1 else ""
        return problem_response(
            422, f"body is not valid JSON: {reason}{where}", title="Malformed JSON", field="body"
        )
    not_json = not is_json_media_type(request.headers.get("content-type"))
    if loc == ("body",) and first["type"] != "missing" and not_json:
        return problem_response(
            415,
            "send the body as JSON, with Content-Type: application/json",
            field="body",
        )
    path = field_path(loc) or "body"
    return problem_response(
        422,
        f"{path}: {_message(first)}",
        title="Invalid input",
        field=path,
        errors=_validation_entries(raw),
    )


def http_error_handler(routes: Sequence[BaseRoute]) -> ExceptionHandler:
    """The handler for routing and parsing errors; `routes` make the `Allow` header of 405s.

    Starlette's own `Allow` names only the first route that matched the path.
    """
    known = [route for route in routes if isinstance(route, Route)]

    def allowed_methods(scope: Scope) -> str:
        methods: set[str] = set()
        for route in known:
            if route.matches(scope)[0] is not Match.NONE:
                methods |= route.methods or set()
        return ", ".join(sorted(methods))

    async def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        # FastAPI answers 400 when a body cannot be parsed for reasons other than syntax.
        if isinstance(error.__cause__, UnicodeDecodeError):
            return problem_response(
                422, "body is not valid JSON: not UTF-8", title="Malformed JSON", field="body"
            )
        if isinstance(error.__cause__, RecursionError):
            return problem_response(
                422,
                "body is not valid JSON: nested too deeply",
                title="Malformed JSON",
                field="body",
            )
        status = error.status_code
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(status).phrase
        headers = dict(error.headers or {})
        if status in (404, 405):
            detail = f"{HTTPStatus(status).phrase}: {request.method} {request.url.path}"
        if status == 405:
            headers["Allow"] = allowed_methods(request.scope)
        return problem_response(status, detail, headers=headers or None)

    return handle


async def unexpected_error_handler(request: Request, error: Exception) -> Response:
    correlation_id = str(request.scope.get("state", {}).get("correlation_id", ""))
    log.error(
        "unexpected error on %s %s (correlation id %s)",
        request.method,
        request.url.path,
        correlation_id,
        exc_info=error,
    )
    # This handler runs outside every middleware, so it sets the correlation header itself.
    return problem_response(
        500,
        f"an unexpected error occurred; the server log has it under {correlation_id}",
        headers={"X-Correlation-ID": correlation_id} if correlation_id else None,
    )


async def secrets_error_handler(request: Request, error: Exception) -> Response:
    """A key file the server cannot use (unreadable, corrupt, the wrong master key): the
    operator's to fix, so 503, with the details in the log only."""
    log.error("unusable key file on %s %s: %s", request.method, request.url.path, error)
    return problem_response(503, "the server's key files are unusable; see the server log")


def register_error_handlers(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Answer every error as problem+json; `routes` are the app's API routes."""
    app.add_exception_handler(EngineError, engine_error_handler)
    app.add_exception_handler(SigningKeyError, secrets_error_handler)
    app.add_exception_handler(MasterKeyError, secrets_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler(routes))
    app.add_exception_handler(Exception, unexpected_error_handler)
