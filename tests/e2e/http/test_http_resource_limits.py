"""Resource limits over HTTP (OWASP API4): bodies refused before they are read (real
sockets), page sizes, messages per request and per message for every route that takes
them, and template rendering time and size."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.rendering import SandboxedRenderer
from adapters.settings import Settings
from projections.paging import MAX_PAGE_SIZE
from tests.support.fake_provider import FakeProvider, Reply
from tests.support.live_server import serving

pytestmark = pytest.mark.anyio

MAX_BODY_BYTES = 2_000
MAX_MESSAGE_BYTES = 1_000
MAX_BATCH_MESSAGES = 5
SILENT_LOOP = (
    "{% set r = range(100000)|list %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}"
)
"""A template that loops for hours and never outputs a character."""


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings]) -> Settings:
    """Small limits, so tests exceed them cheaply."""
    return make_fake_settings(
        default_provider="openai",
        max_body_bytes=MAX_BODY_BYTES,
        max_message_bytes=MAX_MESSAGE_BYTES,
        max_batch_messages=MAX_BATCH_MESSAGES,
        template_timeout=0.3,
        template_max_output_chars=1_000,
        max_replay_sessions=2,
    )


@pytest.fixture
def server(ledger: Ledger, settings: Settings) -> Iterator[tuple[str, int]]:
    """The app on a real uvicorn server: its host and port."""
    with serving(create_app(ledger, settings)) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _exchange(address: tuple[str, int], head: bytes, first_part: bytes) -> bytes:
    """Send a request head and the first part of its body only; what the server answers."""
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(head + first_part)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode()


# Request bodies, on a real socket


def test_a_declared_oversized_body_is_answered_413_after_its_first_bytes(
    server: tuple[str, int],
) -> None:
    head = _head("/v1/sessions", f"Content-Length: {100 * MAX_BODY_BYTES}")

    answer = _exchange(server, head, b'{"title": "' + b"x" * 500)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"application/problem+json" in answer


def test_a_chunked_oversized_body_is_answered_413_before_it_ends(
    server: tuple[str, int],
) -> None:
    head = _head("/v1/sessions", "Transfer-Encoding: chunked")
    part = b'{"title": "' + b"x" * 1500
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (part, b"y" * 1500))

    # The body never ends (no last chunk): only an early answer can arrive.
    answer = _exchange(server, head, chunks)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


# Page sizes


async def test_every_limit_parameter_has_the_documented_maximum(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    limits = [
        (path, parameter["schema"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "limit"
    ]

    assert len(limits) >= 5
    for path, parameter in limits:
        assert parameter.get("maximum") == MAX_PAGE_SIZE, path
        assert parameter.get("minimum") == 1, path


async def test_a_page_larger_than_the_maximum_is_refused(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    for path in (
        "/v1/sessions",
        "/v1/agents",
        "/v1/audit",
        f"/v1/sessions/{sid}/messages",
        f"/v1/sessions/{sid}/events",
    ):
        response = await client.get(path, params={"limit": 10**6})
        assert response.status_code == 422, path
        assert response.json()["field"] == "query.limit", path


# Messages: how many, and how large, wherever they come in


async def test_more_messages_in_one_request_than_allowed_are_refused(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    batch = [{"role": "user", "content": str(n)} for n in range(MAX_BATCH_MESSAGES + 1)]

    response = await client.post(f"/v1/sessions/{sid}/messages", json={"messages": batch})
    accepted = await client.post(
        f"/v1/sessions/{sid}/messages", json={"messages": batch[:MAX_BATCH_MESSAGES]}
    )

    assert response.status_code == 413
    assert response.json()["field"] == "messages"
    assert accepted.status_code == 201


async def test_a_chat_message_over_the_message_limit_is_refused_before_the_model_is_called(
    client: httpx.AsyncClient, session: dict[str, Any], fake_provider: FakeProvider
) -> None:
    sid = session["id"]
    for stream in (False, True):
        response = await client.post(
            f"/v1/sessions/{sid}/chat", json={"message": "q" * MAX_MESSAGE_BYTES, "stream": stream}
        )
        assert response.status_code == 413
        assert response.json()["field"] == "messages[0]"
    assert fake_provider.calls == 0
    assert (await client.get(f"/v1/sessions/{sid}")).json()["version"] == 1


async def test_an_imported_bundle_with_a_message_over_the_limit_is_refused(
    client: httpx.AsyncClient, ledger: Ledger, session: dict[str, Any]
) -> None:
    sid = session["id"]
    await client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "hi"})
    bundle = (await client.get(f"/v1/sessions/{sid}/export")).content
    await client.delete(f"/v1/sessions/{sid}")
    ledger.engine.max_message_bytes = 10  # the importing server allows less than the exporter

    response = await client.post(
        "/v1/sessions/import",
        params={"new_id": "00000000-0000-4000-8000-00000000abcd"},
        content=bundle,
        headers={"content-type": "application/x-ndjson"},
    )

    assert response.status_code == 413, response.text
    assert response.json()["field"].startswith("bundle: session ")


# Batches of model calls


async def test_a_replay_batch_selecting_more_sessions_than_allowed_is_refused(
    client: httpx.AsyncClient,
) -> None:
    for n in range(3):
        await client.post("/v1/sessions", json={"metadata": {"suite": "big", "n": n}})
    body = {"metadata_filter": {"suite": "big"}, "mode": "deterministic"}

    refused = await client.post("/v1/replays", json=body)
    within = await client.post(
        "/v1/replays", json={**body, "metadata_filter": {"suite": "big", "n": 1}}
    )

    assert refused.status_code == 413
    assert refused.json()["field"] == "metadata_filter"
    assert within.status_code == 200
    listed = (await client.get("/v1/sessions")).json()["data"]
    assert len(listed) == 3 + 1  # the refused batch replayed nothing; the other one branch


# Templates


async def _templated_session(client: httpx.AsyncClient, situation: str) -> str:
    response = await client.post(
        "/v1/sessions", json={"situation": situation, "render_templates": True}
    )
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("situation", "detail"),
    [
        (SILENT_LOOP, "took longer than 0.3 s"),
        ("{% for a in range(100000) %}{{ a }}{% endfor %}", "renders to more than 1000"),
        ("{{ 'x' * 10**9 }}", "a repetition longer than 1000"),
        ("{{ 'x'|center(10**9) }}", "a size above 1000"),
        ("{{ '{:>1000000000}'.format(1) }}", "a size above 1000"),
        ("{{ 7 ** (10**8) }}", "exponents above"),
    ],
)
async def test_a_template_over_its_time_or_size_limit_is_a_422_and_calls_no_model(
    client: httpx.AsyncClient, fake_provider: FakeProvider, situation: str, detail: str
) -> None:
    sid = await _templated_session(client, situation)

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "hi"})

    assert response.status_code == 422
    assert response.json()["title"] == "Template error"
    assert response.json()["field"] == "situation"
    assert detail in response.json()["detail"]
    assert fake_provider.calls == 0


async def test_a_slow_template_does_not_hold_up_other_requests(
    client: httpx.AsyncClient, ledger: Ledger, fake_provider: FakeProvider
) -> None:
    renderer = ledger.chat_service.renderer
    assert isinstance(renderer, SandboxedRenderer)
    renderer.max_seconds = 3.0  # a window wide enough for a turn on a busy machine
    slow = await _templated_session(client, SILENT_LOOP)
    quick = await _templated_session(client, "Plan for {{ user }}.")
    fake_provider.script(Reply(text="fine"))
    finished: list[str] = []

    async def chat(sid: str, name: str) -> None:
        response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "hi"})
        finished.append(f"{name} {response.status_code}")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(chat, slow, "slow")
        await anyio.sleep(0.1)  # let the slow render start
        tasks.start_soon(chat, quick, "quick")

    assert finished == ["quick 200", "slow 422"]
