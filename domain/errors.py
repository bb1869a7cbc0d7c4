"""Errors a caller of the engine can act on.

EngineError
  ├ SessionNotFoundError        -> 404  (unknown id, or another tenant's session)
  ├ SessionDeletedError         -> 410
  ├ MessageNotFoundError        -> 404  (no such message in the session's history)
  ├ CompletionNotFoundError     -> 404  (no such model call recorded in the session)
  ├ AgentNotFoundError          -> 404
  ├ AgentDeletedError           -> 410
  ├ ApiKeyNotFoundError         -> 404  (unknown id, or another tenant's key)
  ├ VersionConflictError        -> 409  (an expected version that no longer holds)
  ├ InvalidInputError           -> 422  (names the offending field)
  │   ├ EmptyMessageError
  │   ├ InvalidTextError        (NUL characters, lone surrogates)
  │   ├ InvalidVersionError     (time travel outside the stream)
  │   └ DigestInvalidError      (a digest malformed, altered or signed with another key)
  ├ TamperingDetectedError      -> 409  (a digest refused: the log fails verification)
  ├ LimitExceededError          -> 413
  │   └ MessageTooLargeError
  ├ AuthenticationError         -> 401  (no credentials, or credentials that do not hold)
  │   └ ApiKeyRevokedError      (a known key, with its secret, that was revoked)
  ├ PermissionDeniedError       -> 403  (the principal's role lacks the right)
  ├ TooManyRequestsError        -> 429  (a per-tenant limit; carries `retry_after` seconds)
  ├ TemplateError               -> 422  (a template that fails to render, or breaks the sandbox)
  ├ ProviderNotConfiguredError  -> 422  (an unknown provider, or one without credentials)
  └ ProviderError               -> 502  (the model provider failed; raised by adapters only)
      ├ ProviderHTTPError       -> 502  (status, body, provider error type)
      │   └ ProviderRateLimitError  -> 429
      ├ ProviderTimeoutError    -> 504
      ├ ProviderConnectionError -> 502
      └ ProviderStreamError     -> 502  (the stream broke after content reached the client)

Library errors are translated where they surface (the engine and the adapters);
nothing else escapes to callers as a domain condition.
"""

from __future__ import annotations

from uuid import UUID


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    title = "Engine error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SessionNotFoundError(EngineError):
    title = "Session not found"

    def __init__(self, session_id: UUID | str) -> None:
        super().__init__(f"session {session_id} not found")
        self.session_id = str(session_id)


class SessionDeletedError(EngineError):
    title = "Session deleted"

    def __init__(self, session_id: UUID | str) -> None:
        super().__init__(f"session {session_id} was deleted")
        self.session_id = str(session_id)


class MessageNotFoundError(EngineError):
    title = "Message not found"

    def __init__(self, session_id: UUID | str, message_id: str) -> None:
        super().__init__(f"session {session_id} has no message {message_id!r}")
        self.session_id = str(session_id)


class CompletionNotFoundError(EngineError):
    title = "Completion not found"

    def __init__(self, session_id: UUID | str, completion_id: str) -> None:
        super().__init__(f"session {session_id} recorded no completion {completion_id!r}")
        self.session_id = str(session_id)


class AgentNotFoundError(EngineError):
    title = "Agent not found"

    def __init__(self, agent_id: UUID | str) -> None:
        super().__init__(f"agent {agent_id} not found")
        self.agent_id = str(agent_id)


class AgentDeletedError(EngineError):
    title = "Agent deleted"

    def __init__(self, agent_id: UUID | str) -> None:
        super().__init__(f"agent {agent_id} was deleted")
        self.agent_id = str(agent_id)


class ApiKeyNotFoundError(EngineError):
    title = "API key not found"

    def __init__(self, key_id: UUID | str) -> None:
        super().__init__(f"API key {key_id} not found")
        self.key_id = str(key_id)


class VersionConflictError(EngineError):
    title = "Version conflict"

    def __init__(
        self, session_id: UUID | str, *, expected: int, actual: int | None, kind: str = "session"
    ) -> None:
        found = "a concurrent write" if actual is None else f"version {actual}"
        super().__init__(f"{kind} {session_id}: expected version {expected}, found {found}")
        self.session_id = str(session_id)
        self.expected = expected
        self.actual = actual


class InvalidInputError(EngineError):
    title = "Invalid input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field


class EmptyMessageError(InvalidInputError):
    def __init__(self, field: str = "content") -> None:
        super().__init__(field, "a message needs at least one content block")


class InvalidTextError(InvalidInputError):
    pass


class InvalidVersionError(InvalidInputError):
    pass


class DigestInvalidError(InvalidInputError):
    """A digest document that is malformed, altered, or signed with another key."""

    def __init__(self, detail: str) -> None:
        super().__init__("digest", detail)


class TamperingDetectedError(EngineError):
    """The event log fails verification, so it is not signed (`detail` names the event)."""

    title = "Tampering detected"


class LimitExceededError(EngineError):
    title = "Limit exceeded"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field


class MessageTooLargeError(LimitExceededError):
    def __init__(self, field: str, size: int, limit: int) -> None:
        super().__init__(field, f"message is {size} bytes, the limit is {limit}")
        self.size = size
        self.limit = limit


class AuthenticationError(EngineError):
    """No credentials, or credentials that are unknown, malformed or revoked."""

    title = "Authentication required"


class ApiKeyRevokedError(AuthenticationError):
    """The key's secret matched, but the key was revoked (its tenant is known)."""

    def __init__(self, key_id: str, tenant_id: str) -> None:
        super().__init__(f"API key {key_id} was revoked")
        self.key_id = key_id
        self.tenant_id = tenant_id


class PermissionDeniedError(EngineError):
    """The authenticated principal's role does not grant the operation."""

    title = "Permission denied"

    def __init__(self, role: str, operation: str) -> None:
        super().__init__(f"role {role!r} may not {operation}")
        self.role = role
        self.operation = operation


class TooManyRequestsError(EngineError):
    """A rate or concurrency limit; the client may retry after `retry_after` seconds."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TemplateError(EngineError):
    title = "Template error"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field


class ProviderNotConfiguredError(EngineError):
    title = "Provider not configured"

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"provider {provider!r}: {detail}")
        self.provider = provider


class ProviderError(EngineError):
    """The model provider failed; `error_type` is low-cardinality (for `error.type`)."""

    title = "Model provider error"

    def __init__(self, detail: str, *, error_type: str, retryable: bool = False) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.retryable = retryable
        self.attempts = 1
        """HTTP attempts made before giving up (set by the adapter)."""


class ProviderHTTPError(ProviderError):
    def __init__(
        self,
        status: int,
        body: str,
        *,
        error_type: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            f"provider answered HTTP {status}: {body[:500]}",
            error_type=error_type or str(status),
            retryable=retryable,
        )
        self.status = status
        self.body = body
        self.retry_after = retry_after


class ProviderRateLimitError(ProviderHTTPError):
    title = "Model provider rate limit"


class ProviderTimeoutError(ProviderError):
    title = "Model provider timeout"


class ProviderConnectionError(ProviderError):
    pass


class ProviderStreamError(ProviderError):
    """The stream failed after content had been forwarded (never retried)."""
