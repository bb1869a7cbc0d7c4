"""The API served by a real uvicorn server on 127.0.0.1, driven over real HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.settings import Settings


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


@pytest.fixture
def base_url(sqlite_url: str) -> Iterator[str]:
    """The URL of a uvicorn server on a free port, serving a SQLite ledger."""
    settings = Settings(database_url=sqlite_url)
    ledger = open_ledger(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(ledger, settings), log_level="warning")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(timeout=30), "uvicorn did not start"
        assert server.started, "uvicorn failed to start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
        ledger.close()


def test_a_session_is_created_appended_to_and_listed_over_real_http(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        created = client.post("/v1/sessions", json={"title": "Over the wire"})
        sid = created.json()["id"]
        appended = client.post(
            f"/v1/sessions/{sid}/messages",
            json={"role": "user", "content": "hello"},
            headers={"If-Match": created.headers["etag"]},
        )
        history = client.get(f"/v1/sessions/{sid}/messages")
        sessions = client.get("/v1/sessions")

    assert created.status_code == 201
    assert appended.status_code == 201
    assert appended.headers["x-correlation-id"]
    assert [m["content"][0]["text"] for m in history.json()["data"]] == ["hello"]
    assert [s["id"] for s in sessions.json()["data"]] == [sid]
    assert sessions.json()["data"][0]["message_count"] == 1
