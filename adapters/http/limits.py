"""Request body limits: size, enforced before a body is read in full, and JSON values.

The pure-ASGI middleware answers 413 problem+json when `Content-Length`
declares more than `max_body_bytes`, and counts the bytes of bodies sent
without one (chunked, streamed), cutting them off as soon as they pass the
limit. Per-message limits are the engine's (`MessageTooLargeError`). JSON the
event store cannot write faithfully (too deep, integers beyond 64 bits, NaN)
is refused as 422 naming where it is, before the engine sees it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.errors import is_json_media_type, problem_response
from domain.validation import check_json


class BodyTooLargeError(Exception):
    """Raised into the app when a streamed body passes the limit."""


class BodyLimitMiddleware:
    """413 for request bodies over `max_body_bytes`, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send, f"{declared} bytes")
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a body cut short; ours is the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, f"more than {self.max_body_bytes} bytes")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        response = problem_response(
            413,
            f"the request body is {size}; the limit is {self.max_body_bytes}",
            title="Request body too large",
            field="body",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def check_json_input(value: Any, field: str) -> None:
    """Refuse JSON the event store cannot write faithfully (the engine's own rule), early."""
    check_json(value, field)


async def json_input_guard(request: Request) -> None:
    """A route dependency: `check_json_input` on a JSON body (other bodies pass)."""
    if not is_json_media_type(request.headers.get("content-type")) or not await request.body():
        return
    try:
        body = await request.json()
    except (ValueError, RecursionError):
        return  # not JSON: the route's own validation says so
    check_json_input(body, "body")
