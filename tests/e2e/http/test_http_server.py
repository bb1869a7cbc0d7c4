"""The API served by a real uvicorn server on 127.0.0.1, driven over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.settings import Settings
from tests.support.live_server import serving


@pytest.fixture
def base_url(sqlite_url: str) -> Iterator[str]:
    """The URL of a uvicorn server on a free port, serving a SQLite ledger."""
    settings = Settings(database_url=sqlite_url)
    ledger = open_ledger(settings)
    try:
        with serving(create_app(ledger, settings)) as url:
            yield url
    finally:
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
