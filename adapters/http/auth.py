"""Who may call what: API key authentication and the role policy of every protected route.

`authorize` is the dependency the app puts before every route but the health
probes. It finds the key (`Authorization: Bearer clk_…` or `X-API-Key`),
authenticates it (401 problem+json with `WWW-Authenticate` when it is missing,
malformed, unknown or revoked; 429 with `Retry-After` once a client address
failed too often), puts the `Principal` into `request.scope["state"]`, then
checks the route's roles before the route loads anything, so a 403 never says
whether an object exists. Refusals (403, and 401 for a revoked key) are
recorded as `Access.Denied` events.

Policy: a route that declares `require_roles(...)` allows those roles; any
other route allows every role to read (GET, HEAD) and `member` and `admin`
to write. Keys are required when `Settings.auth` is `required`, or `auto` and
a key was ever created; otherwise requests without a key run as the
configured local admin.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import anyio
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from adapters.http.auth_failures import FailedAuthentications
from adapters.http.context import ROLES, Principal, Role, command_context, get_principal
from adapters.http.openapi import problem_responses
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.api_key import ApiKey
from domain.context import CommandContext
from domain.errors import (
    ApiKeyRevokedError,
    AuthenticationError,
    PermissionDeniedError,
    TooManyRequestsError,
)

READ_METHODS = frozenset({"GET", "HEAD"})
WRITERS: frozenset[Role] = frozenset({"member", "admin"})

AUTH_RESPONSES = problem_responses(
    401,
    403,
    descriptions={
        401: "No API key, or one that is malformed, unknown or revoked",
        403: "The API key's role does not grant this operation",
    },
)
"""The statuses every protected route may answer, for the OpenAPI document."""

_bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="`Authorization: Bearer clk_…`"
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="The key, `clk_…`"
)


def allowed_roles(route: Any, method: str) -> frozenset[Role]:
    """The roles `route` lets call `method`: those every `require_roles` it declares allows
    (on the route, its router or as a parameter's dependency), else the default policy."""
    declared: list[frozenset[Role]] = []
    pending = list(getattr(getattr(route, "dependant", None), "dependencies", ()))
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "roles", None)
        if roles is not None:
            declared.append(frozenset(roles))
        pending.extend(dependant.dependencies)
    if declared:
        return frozenset.intersection(*declared)
    return frozenset(ROLES) if method in READ_METHODS else WRITERS


def actor_of(key: ApiKey) -> str:
    """The actor a key's requests record: its id, which no one can choose, after its name
    (`alice (key:5f08…)`), or the id alone (`key:5f08…`)."""
    label = f"key:{key.id}"
    return f"{key.name} ({label})" if key.name else label


def route_template(request: Request) -> str:
    """The matched route's path template (`/v1/keys/{key_id}`), else the request's path."""
    route = request.scope.get("route")
    return str(getattr(route, "path_format", None) or request.url.path)


class Gatekeeper:
    """Authenticates keys for one app, counts failures, and records refusals."""

    def __init__(self, ledger: Ledger, settings: Settings) -> None:
        self.ledger = ledger
        self.settings = settings
        self.failures = FailedAuthentications(
            limit=settings.auth_max_failures, window=settings.auth_failure_window
        )
        self._required = False

    async def keys_required(self) -> bool:
        """Whether a request must carry a key (`auto`: once any key was ever created)."""
        if not self._required:  # keys are never deleted: once required, for good
            self._required = await anyio.to_thread.run_sync(
                self.ledger.keys_required, self.settings.auth
            )
        return self._required

    async def principal(self, request: Request, token: str | None) -> Principal | None:
        """The principal `token` stands for; None when the request may run unauthenticated."""
        if self.settings.auth == "off":
            return None
        if token is None:
            if await self.keys_required():
                raise AuthenticationError(
                    "this API needs a key: send Authorization: Bearer <key> (or X-API-Key)"
                )
            return None
        client = request.client.host if request.client else "unknown"
        wait = self.failures.retry_after(client)
        if wait is not None:
            raise TooManyRequestsError(
                "too many failed authentications from this address", retry_after=wait
            )
        try:
            key = await anyio.to_thread.run_sync(self.ledger.authenticate, token)
        except AuthenticationError as error:
            self.failures.record(client)
            if isinstance(error, ApiKeyRevokedError):
                await self.record_denial(
                    request,
                    CommandContext(tenant_id=error.tenant_id, actor=f"key:{error.key_id}"),
                    role="",
                    status=401,
                    key_id=error.key_id,
                    reason="revoked key",
                )
            raise
        return Principal(
            tenant_id=key.tenant_id, actor=actor_of(key), role=key.role, key_id=str(key.id)
        )

    async def record_denial(
        self,
        request: Request,
        ctx: CommandContext,
        *,
        role: str,
        status: int,
        key_id: str | None,
        reason: str,
    ) -> None:
        """Record a refused request as `Access.Denied` in `ctx.tenant_id`."""
        state = request.scope.get("state", {})
        ctx = ctx.model_copy(
            update={
                "correlation_id": state.get("correlation_id") or ctx.correlation_id,
                "trace_id": state.get("trace_id"),
            }
        )
        await anyio.to_thread.run_sync(
            lambda: self.ledger.record_access_denied(
                ctx,
                method=request.method,
                route=route_template(request),
                role=role,
                status=status,
                key_id=key_id,
                reason=reason,
            )
        )


async def authorize(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> None:
    """Authenticate the request, then refuse (403, recorded) a role the route does not allow."""
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    token = bearer.credentials if bearer is not None else api_key
    principal = await gatekeeper.principal(request, token)
    if principal is not None:
        request.scope.setdefault("state", {})["principal"] = principal
    else:
        principal = await get_principal(request)
    if principal.role in allowed_roles(request.scope.get("route"), request.method):
        return
    await deny(request, principal, f"{request.method} {route_template(request)}")


async def deny(request: Request, principal: Principal, operation: str) -> NoReturn:
    """Record the refusal of `operation` as `Access.Denied`, then answer 403."""
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    await gatekeeper.record_denial(
        request,
        await command_context(request, principal),
        role=principal.role,
        status=403,
        key_id=principal.key_id,
        reason=f"role {principal.role!r} may not {operation}",
    )
    raise PermissionDeniedError(principal.role, operation)
