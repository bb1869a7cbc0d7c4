"""A fake OpenAI Chat Completions server for the chat-turn benchmark, in its own process.

It always answers with the same reply, `REPLY` (50 words): as one JSON body, or as SSE in
`CHUNKS` (10) content chunks when the request streams (with the usage chunk when
`stream_options.include_usage` asks for it). `POST /_control {"chunk_delay_ms": d}` makes
it wait `d` ms before every content chunk from then on (so the first token comes `d` ms
after the request); `GET /_timings` hands back, and forgets, what it measured per request:
when the request body was in, when the first content chunk and the end were written
(`time.perf_counter()`, which is CLOCK_MONOTONIC on Linux and so comparable with the
benchmark's own clock), how many bytes and messages the request carried, and the client's
port (a new port is a new TCP connection).

The benchmark does not reuse `tests/support/fake_provider.py`: that one runs on a thread of
the process it serves (its event loop would compete with the measured code for the GIL),
is scripted one reply per call, stalls once rather than per chunk, and records no timings.
This one is a bare ASGI app on uvicorn, started with `FakeOpenAI()` (a context manager
that runs `python -m bench.fake_openai` and stops it) and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

WORDS = 50
CHUNKS = 10
REPLY = " ".join(f"word{i:02d}" for i in range(WORDS))
"""The reply's text: 50 words, 349 characters."""
MODEL = "fake-model"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def split(text: str, chunks: int) -> list[str]:
    """`text` in `chunks` pieces cut at word boundaries (as even as the words allow)."""
    words = text.split(" ")
    size, extra = divmod(len(words), chunks)
    pieces, start = [], 0
    for i in range(chunks):
        end = start + size + (1 if i < extra else 0)
        pieces.append(" ".join(words[start:end]) + (" " if end < len(words) else ""))
        start = end
    return pieces


def _usage(messages: int) -> dict[str, Any]:
    return {"prompt_tokens": 10 * messages, "completion_tokens": WORDS, "total_tokens": 0}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1763700000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


CONTENT_FRAMES = [_chunk({"content": piece}) for piece in split(REPLY, CHUNKS)]
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8")]


class App:
    """The ASGI app: `/v1/chat/completions`, `/_control` and `/_timings`."""

    def __init__(self) -> None:
        self.chunk_delay = 0.0
        self.timings: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        received = time.perf_counter()
        path = scope["path"]
        if path == "/v1/chat/completions":
            client = scope.get("client") or ("", 0)
            await self._completion(json.loads(raw), len(raw), received, client[1], send)
        elif path == "/_control":
            self.chunk_delay = float(json.loads(raw).get("chunk_delay_ms", 0)) / 1000
            await _json(send, {"chunk_delay_ms": self.chunk_delay * 1000})
        elif path == "/_timings":
            timings, self.timings = self.timings, []
            await _json(send, timings)
        else:
            await _json(send, {"error": {"message": f"no route {path}"}}, status=404)

    async def _completion(
        self, body: dict[str, Any], size: int, received: float, port: int, send: Send
    ) -> None:
        messages = len(body.get("messages") or [])
        timing = {
            "received": received,
            "request_bytes": size,
            "messages": messages,
            "client_port": port,  # one port per TCP connection: how often clients reconnect
        }
        self.timings.append(timing)
        if not body.get("stream"):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay * CHUNKS)
            reply = {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": 1763700000,
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": REPLY, "refusal": None},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(messages),
            }
            timing["first_content"] = time.perf_counter()
            await _json(send, reply)
            timing["end"] = time.perf_counter()
            return
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})

        async def frame(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        await frame(_chunk({"role": "assistant", "content": ""}))
        for data in CONTENT_FRAMES:
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            timing.setdefault("first_content", time.perf_counter())
            await frame(data)
        await frame(_chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage: dict[str, Any] = {"id": "chatcmpl-bench", "object": "chat.completion.chunk"}
            usage["choices"] = []
            usage["usage"] = _usage(messages)
            await frame(b"data: " + json.dumps(usage).encode() + b"\n\n")
        await frame(b"data: [DONE]\n\n")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        timing["end"] = time.perf_counter()


async def _json(send: Send, value: Any, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": json.dumps(value).encode()})


class FakeOpenAI:
    """`python -m bench.fake_openai` as a child process: `url`, `set_delay`, `timings`."""

    def __init__(self) -> None:
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._control: httpx.Client | None = None

    def __enter__(self) -> FakeOpenAI:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_openai"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the fake provider did not start: {line!r}")
        self.url = line
        self._control = httpx.Client(base_url=self.url, timeout=10)
        for _ in range(100):  # uvicorn listens on the socket before it serves it
            try:
                self.set_delay(0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._control is not None:
            self._control.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    def set_delay(self, chunk_delay_ms: float) -> None:
        assert self._control is not None
        self._control.post("/_control", json={"chunk_delay_ms": chunk_delay_ms}).raise_for_status()

    def timings(self) -> list[dict[str, Any]]:
        """What the server measured per completion request since the last call, in order."""
        assert self._control is not None
        response = self._control.get("/_timings")
        response.raise_for_status()
        timings: list[dict[str, Any]] = response.json()
        return timings


def main() -> None:
    import uvicorn

    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and accepted sockets inherit the listener's protocol. Without it, Nagle holds each
    # SSE frame until the client's delayed ACK (40 ms) on every reused connection.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(App(), log_level="warning", access_log=False, lifespan="off")
    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
