"""The FastAPI application: `create_app(ledger, settings)` wires routes, errors and limits.

This module owns the assembly only: which routers, which error handlers, which
middleware in which order, and the OpenAPI document. It holds no app object at
module level and reads no environment; entry points build the `Ledger` and
`Settings` and own their lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http import (
    routes_agents,
    routes_audit,
    routes_branches,
    routes_bundles,
    routes_chat,
    routes_erasure,
    routes_health,
    routes_history,
    routes_integrity,
    routes_keys,
    routes_messages,
    routes_replay,
    routes_sessions,
)
from adapters.http.auth import AUTH_RESPONSES, Gatekeeper, authorize
from adapters.http.context import CorrelationMiddleware
from adapters.http.errors import register_error_handlers
from adapters.http.limits import BodyLimitMiddleware
from adapters.http.openapi import problem_openapi
from adapters.http.sse import add_event_schemas
from adapters.http.streams import StreamSlots
from adapters.ledger import Ledger
from adapters.settings import Settings


def _package_version() -> str:
    try:
        return version("chatledger")
    except PackageNotFoundError:
        return "0.1.0"


def create_app(ledger: Ledger, settings: Settings) -> FastAPI:
    """The HTTP API over `ledger`, configured by `settings`."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # Provider connections belong to the server's event loop: close them with it.
        await ledger.chat_service.models.aclose()

    app = FastAPI(
        title="chatledger",
        version=_package_version(),
        description="Chat sessions stored as append-only events. Errors are "
        "`application/problem+json` (RFC 9457).",
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    app.state.settings = settings
    app.state.gatekeeper = Gatekeeper(ledger, settings)
    app.state.stream_slots = StreamSlots(settings.max_streams_per_tenant)
    modules = (
        routes_sessions,
        routes_messages,
        routes_erasure,
        routes_chat,
        routes_history,
        routes_branches,
        routes_bundles,
        routes_replay,
        routes_agents,
        routes_keys,
        routes_audit,
        routes_integrity,
        routes_health,
    )
    open_modules = (routes_health,)  # probes answer without a key
    routers = [m.router for m in modules]
    for module in modules:
        if module in open_modules:
            app.include_router(module.router)
        else:
            app.include_router(
                module.router, dependencies=[Depends(authorize)], responses=AUTH_RESPONSES
            )
    register_error_handlers(app, [route for router in routers for route in router.routes])
    # The last added runs first: correlation ids wrap everything, 413s included.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = add_event_schemas(problem_openapi(schema))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
