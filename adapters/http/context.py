"""Who a request runs for and under which ids: the per-request `CommandContext`.

This module owns the correlation middleware (an `X-Correlation-ID` for every
request, taken from the client when valid and echoed on every response), W3C
`traceparent` parsing, and the FastAPI dependencies that hand routes the
ledger, the authenticated `Principal` and the command context.

Roles: `member` works with its tenant's sessions and agents; `auditor` reads
them and the audit trail; `admin` may do both and manage keys, erase and redact.
Routes that need more than `member` declare `Depends(require_roles(...))`;
the others let every role read (GET) and `member` and `admin` write
(`adapters.http.auth` applies the policy and authenticates). Without
authentication (`Settings.auth` off, or `auto` before any key exists), every
request runs for `settings.tenant_id` as `settings.actor` with the `admin` role.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import uuid4

from fastapi import Depends, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.api_key import ROLES as ROLES
from domain.api_key import KeyRole as Role
from domain.context import CommandContext
from domain.errors import PermissionDeniedError

CORRELATION_HEADER = "X-Correlation-ID"

_CORRELATION_ID = re.compile(r"[\x20-\x7e]{1,128}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


def correlation_id_from(headers: Headers) -> str:
    """The client's `X-Correlation-ID` (or `X-Request-ID`) when valid, else a new id.

    Valid means 1 to 128 printable ASCII characters, so it is safe to log and echo.
    """
    for name in (CORRELATION_HEADER, "X-Request-ID"):
        value = headers.get(name, "").strip()
        if _CORRELATION_ID.fullmatch(value):
            return value
    return uuid4().hex


def trace_id_from(traceparent: str | None) -> str | None:
    """The trace id of a valid W3C `traceparent` header, else None."""
    match = _TRACEPARENT.fullmatch((traceparent or "").strip())
    if match is None:
        return None
    version, trace_id, parent_id, _, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id


class CorrelationMiddleware:
    """Gives each request its correlation and trace ids and echoes the correlation id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = correlation_id_from(headers)
        state = scope.setdefault("state", {})
        state["correlation_id"] = correlation_id
        state["trace_id"] = trace_id_from(headers.get("traceparent"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        await self.app(scope, receive, send_with_id)


# The dependencies are `async` because they do no I/O: FastAPI would run plain ones in threads.


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


@dataclass(frozen=True)
class Principal:
    """Who a request runs as: a tenant, the actor recorded on events, and a role."""

    tenant_id: str
    actor: str
    role: Role
    key_id: str | None = None


async def get_principal(request: Request) -> Principal:
    """The request's principal (without authentication: the configured local admin)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is not None:
        return principal
    settings: Settings = request.app.state.settings
    return Principal(tenant_id=settings.tenant_id, actor=settings.actor, role="admin")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 otherwise).

    Its `roles` attribute is the route's policy: `adapters.http.auth.authorize` reads it
    to refuse (and record) before anything else runs."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise PermissionDeniedError(principal.role, f"{request.method} {request.url.path}")
        return principal

    check.roles = frozenset(roles)  # type: ignore[attr-defined]
    return check


async def command_context(request: Request, principal: PrincipalDep) -> CommandContext:
    """The context of this request's commands: tenant, actor, correlation and trace ids."""
    state = request.scope.get("state", {})
    return CommandContext(
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        correlation_id=state.get("correlation_id") or uuid4().hex,
        trace_id=state.get("trace_id"),
    )


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ContextDep = Annotated[CommandContext, Depends(command_context)]
