"""Size limits over HTTP: whole bodies (declared or streamed) and single messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.settings import Settings

pytestmark = pytest.mark.anyio

MAX_BODY_BYTES = 2_000
MAX_MESSAGE_BYTES = 1_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings with small limits, so tests can exceed them cheaply."""
    return Settings(
        database_url=database_url,
        max_body_bytes=MAX_BODY_BYTES,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


class Chunks:
    """A request body sent in chunks, without Content-Length; counts what was read."""

    def __init__(self, body: bytes, size: int = 100) -> None:
        self.parts = [body[i : i + size] for i in range(0, len(body), size)]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.sent += 1
            yield part


def _message(text: str) -> bytes:
    return json.dumps({"role": "user", "content": text}).encode()


async def _version(client: httpx.AsyncClient, sid: str) -> int:
    version: int = (await client.get(f"/v1/sessions/{sid}")).json()["version"]
    return version


async def test_a_body_declared_over_the_limit_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    body = _message("x" * MAX_BODY_BYTES)

    response = await client.post(
        f"/v1/sessions/{sid}/messages", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert str(MAX_BODY_BYTES) in response.json()["detail"]
    assert await _version(client, sid) == 1


async def test_a_chunked_body_over_the_limit_is_cut_off_before_it_is_read_in_full(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    chunks = Chunks(_message("x" * 10 * MAX_BODY_BYTES))

    response = await client.post(
        f"/v1/sessions/{sid}/messages",
        content=chunks,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert chunks.sent < len(chunks.parts)
    assert await _version(client, sid) == 1


async def test_a_chunked_body_within_the_limit_is_accepted(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    chunks = Chunks(_message("y" * 500), size=64)

    response = await client.post(
        f"/v1/sessions/{session['id']}/messages",
        content=chunks,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 201
    assert response.json()["messages"][0]["content"][0]["text"] == "y" * 500


async def test_a_message_over_the_message_limit_is_refused_naming_it(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    batch = {
        "messages": [
            {"role": "user", "content": "small"},
            {"role": "user", "content": "z" * MAX_MESSAGE_BYTES},
        ]
    }

    response = await client.post(f"/v1/sessions/{sid}/messages", json=batch)
    streamed = await client.post(
        f"/v1/sessions/{sid}/messages",
        content=Chunks(json.dumps(batch).encode()),
        headers={"content-type": "application/json"},
    )

    for refused in (response, streamed):
        assert refused.status_code == 413
        assert refused.json()["field"] == "messages[1]"
        assert refused.json()["title"] == "Limit exceeded"
    assert await _version(client, sid) == 1
    assert (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"] == []


async def test_a_first_message_over_the_message_limit_refuses_the_session(
    client: httpx.AsyncClient,
) -> None:
    body = {"title": "big", "messages": [{"role": "user", "content": "z" * MAX_MESSAGE_BYTES}]}

    response = await client.post("/v1/sessions", json=body)

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "messages[0]"
    assert (await client.get("/v1/sessions")).json()["data"] == []
