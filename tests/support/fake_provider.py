"""A fake model provider: a real HTTP server on 127.0.0.1 speaking OpenAI, Anthropic and Gemini.

Tests script what it does next, one behaviour per call, in order:

    fake_provider.script(Reply(text="Hello there", chunks=3))
    fake_provider.script(Fail(429, retry_after=2), Reply(text="ok"))

`Reply` answers (JSON, or SSE when the request streams) and can misbehave on the way: drop
the connection or stall after k content chunks, or send an in-band error. `Fail` answers
with an error status, headers and a provider-shaped error body. Every request is recorded
(`requests`, `calls`). The routes are `/v1/chat/completions`, `/v1/messages` and
`/v1beta/models/{model}:generateContent` / `:streamGenerateContent?alt=sse`; use `url` for
Anthropic and Gemini and `openai_url` for OpenAI. A call with nothing scripted gets a 400
that says so. A support module (tests/conftest.py provides the `fake_provider` fixture).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.support.fake_provider_script import Behaviour, Fail, Reply, TokenUsage, ToolCall
from tests.support.fake_wire import Frame, Wire, default_error_type, error_body, sse
from tests.support.fake_wire.anthropic import anthropic_frames, anthropic_json
from tests.support.fake_wire.gemini import gemini_frames, gemini_json
from tests.support.fake_wire.openai import openai_frames, openai_json

__all__ = ["Fail", "FakeProvider", "RecordedRequest", "Reply", "TokenUsage", "ToolCall"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class FakeProvider:
    """The server, its script and its records; `start()` it once, `reset()` between tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[Behaviour] = deque()
        self._released = threading.Event()  # set to cut every stall short (teardown)
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None

    # Scripting and records ---------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue what the next calls get, one behaviour per call."""
        with self._lock:
            self._script.extend(behaviours)

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def reset(self) -> None:
        """Forget the script and the records, and end any stall still running."""
        self._released.set()
        with self._lock:
            self._script.clear()
            self.requests.clear()
        self._released = threading.Event()

    # Lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        # IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted sockets (else each streamed
        # chunk on a reused connection waits for Nagle).
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._listener.bind(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        config = uvicorn.Config(
            self._app(), log_level="critical", timeout_graceful_shutdown=2, lifespan="off"
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._listener]}, daemon=True
        )
        self._thread.start()
        assert self._server.ready.wait(timeout=30), "fake provider did not start"
        assert self._server.started, "fake provider failed to start"
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._listener is not None:
            self._listener.close()

    # The app ---------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1beta/models/{target}", self._gemini, methods=["POST"]),
            ]
        )

    async def _openai(self, request: Request) -> Response:
        body = await self._record(request)
        streaming = bool(body.get("stream"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await self._answer(
            "openai",
            streaming,
            lambda reply: openai_json(reply),
            lambda reply: openai_frames(reply, include_usage=include_usage),
        )

    async def _anthropic(self, request: Request) -> Response:
        body = await self._record(request)
        return await self._answer(
            "anthropic", bool(body.get("stream")), anthropic_json, anthropic_frames
        )

    async def _gemini(self, request: Request) -> Response:
        await self._record(request)
        streaming = request.path_params["target"].endswith(":streamGenerateContent")
        return await self._answer("gemini", streaming, gemini_json, gemini_frames)

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(recorded)
        return body if isinstance(body, dict) else {}

    async def _answer(
        self,
        wire: Wire,
        streaming: bool,
        as_json: Callable[[Reply], dict[str, Any]],
        as_frames: Callable[[Reply], list[Frame]],
    ) -> Response:
        with self._lock:
            behaviour = self._script.popleft() if self._script else None
        if behaviour is None:
            message = "fake provider: nothing scripted for this call"
            return JSONResponse(error_body(wire, 400, "invalid_request_error", message, None), 400)
        if isinstance(behaviour, Fail):
            return _failure(wire, behaviour)
        if behaviour.stall_after is None and behaviour.stall_s:
            await self._stall(behaviour.stall_s)
        if not streaming:
            return JSONResponse(as_json(behaviour), headers=behaviour.headers)
        return _Stream(as_frames(behaviour), behaviour, wire, self._stall)

    async def _stall(self, seconds: float) -> None:
        # A worker thread waits, so `reset()` from the test thread can cut the stall short.
        await anyio.to_thread.run_sync(self._released.wait, seconds, abandon_on_cancel=True)


def _failure(wire: Wire, fail: Fail) -> Response:
    headers = dict(fail.headers)
    if fail.retry_after is not None:
        headers["retry-after"] = f"{fail.retry_after:g}"
    error_type = fail.error_type or default_error_type(wire, fail.status)
    body = fail.body
    if body is None:
        body = error_body(wire, fail.status, error_type, fail.message, fail.details)
    return JSONResponse(body, status_code=fail.status, headers=headers)


class _Stream(Response):
    """SSE frames sent one by one, with the reply's scripted drop, stall or in-band error."""

    def __init__(
        self,
        frames: list[Frame],
        reply: Reply,
        wire: Wire,
        stall: Callable[[float], Awaitable[None]],
    ) -> None:
        # No `super().__init__()`: it would announce `content-length: 0` for the empty body.
        self.status_code = 200
        self.raw_headers = [(b"content-type", b"text/event-stream; charset=utf-8")] + [
            (k.lower().encode(), v.encode()) for k, v in reply.headers.items()
        ]
        self.frames, self.reply, self.wire, self.stall = frames, reply, wire, stall

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def body(data: bytes, *, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": more})

        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        sent = 0
        for frame in self.frames:
            if frame.content:
                if self.reply.drop_after is not None and sent >= self.reply.drop_after:
                    return  # uvicorn closes the connection mid-body: the client sees a cut
                if self.reply.stall_after == sent and self.reply.stall_s:
                    await self.stall(self.reply.stall_s)
                if self.reply.error_after == sent:
                    await body(_in_band_error(self.wire, self.reply.error_type))
                    break
                sent += 1
            await body(frame.data)
        await body(b"", more=False)


_GEMINI_CODES = {"UNAVAILABLE": 503, "INTERNAL": 500, "RESOURCE_EXHAUSTED": 429}


def _in_band_error(wire: Wire, error_type: str | None) -> bytes:
    """An error sent after the 200 status, the way each provider sends one."""
    if wire == "anthropic":
        overloaded = {"type": error_type or "overloaded_error", "message": "Overloaded"}
        return sse({"type": "error", "error": overloaded}, event="error").data
    if wire == "gemini":
        # Gemini's late errors are plain JSON, outside SSE framing, spread over lines.
        status = error_type or "UNAVAILABLE"
        unavailable = {"code": _GEMINI_CODES.get(status, 400), "message": "late", "status": status}
        return (json.dumps({"error": unavailable}, indent=2) + "\n").encode()
    failure = {"message": "late failure", "type": error_type or "server_error", "code": None}
    return sse({"error": failure}).data


class _Server(uvicorn.Server):
    """A uvicorn server that says when it has started (or given up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()
