"""Errors a caller of the engine can act on.

EngineError
  ├ SessionNotFoundError        -> 404  (unknown id, or another tenant's session)
  ├ SessionDeletedError         -> 410
  ├ VersionConflictError        -> 409  (an expected version that no longer holds)
  ├ InvalidInputError           -> 422  (names the offending field)
  │   ├ EmptyMessageError
  │   ├ InvalidTextError        (NUL characters, lone surrogates)
  │   └ InvalidVersionError     (time travel outside the stream)
  └ LimitExceededError          -> 413
      └ MessageTooLargeError

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


class VersionConflictError(EngineError):
    title = "Version conflict"

    def __init__(self, session_id: UUID | str, *, expected: int, actual: int | None) -> None:
        found = "a concurrent write" if actual is None else f"version {actual}"
        super().__init__(f"session {session_id}: expected version {expected}, found {found}")
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
