"""The FastAPI application: `create_app(ledger, settings)` wires routes, errors and limits.

This module owns the assembly only: which routers, which error handlers, which
middleware in which order, and the OpenAPI document. It holds no app object at
module level and reads no environment; entry points build the `Ledger` and
`Settings` and own their lifetime.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http import routes_health, routes_history, routes_messages, routes_sessions
from adapters.http.context import CorrelationMiddleware
from adapters.http.errors import problem_openapi, register_error_handlers
from adapters.http.limits import BodyLimitMiddleware
from adapters.ledger import Ledger
from adapters.settings import Settings


def _package_version() -> str:
    try:
        return version("chatledger")
    except PackageNotFoundError:
        return "0.1.0"


def create_app(ledger: Ledger, settings: Settings) -> FastAPI:
    """The HTTP API over `ledger`, configured by `settings`."""
    app = FastAPI(
        title="chatledger",
        version=_package_version(),
        description="Chat sessions stored as append-only events. Errors are "
        "`application/problem+json` (RFC 9457).",
    )
    app.state.ledger = ledger
    app.state.settings = settings
    routers = [m.router for m in (routes_sessions, routes_messages, routes_history, routes_health)]
    for router in routers:
        app.include_router(router)
    register_error_handlers(app, [route for router in routers for route in router.routes])
    # The last added runs first: correlation ids wrap everything, 413s included.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_openapi(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
