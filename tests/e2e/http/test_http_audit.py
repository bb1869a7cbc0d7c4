"""`GET /v1/audit` as a client sees it: roles, tenants, filters, paging, NDJSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http.app import create_app
from adapters.http.context import Principal, Role
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.message import Message
from tests.support.live_server import serving

pytestmark = pytest.mark.anyio

Connect = Callable[[Role], httpx.AsyncClient]


def as_principal(app: ASGIApp, principal: Principal) -> ASGIApp:
    """`app` with every request authenticated as `principal` (as the auth layer will)."""

    async def authenticated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return authenticated


@pytest.fixture
async def connect(ledger: Ledger, settings: Settings) -> AsyncIterator[Connect]:
    """Clients of the app as a principal of tenant `local` with the given role."""
    app = create_app(ledger, settings)
    clients: list[httpx.AsyncClient] = []

    def make(role: Role) -> httpx.AsyncClient:
        principal = Principal(tenant_id="local", actor=f"{role}-1", role=role)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=as_principal(app, principal)),
            base_url="http://test",
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def trail(client: httpx.AsyncClient, ledger: Ledger) -> dict[str, str]:
    """A session and a message written over HTTP, and another tenant's session beside it."""
    created = await client.post("/v1/sessions", json={"title": "Oslo"})
    sid = created.json()["id"]
    await client.post(
        f"/v1/sessions/{sid}/messages",
        json={"role": "user", "content": "hello"},
        headers={
            "X-Correlation-ID": "corr-42",
            "traceparent": "00-" + "b" * 32 + "-" + "c" * 16 + "-01",
        },
    )
    await client.post("/v1/agents", json={"name": "helper"})
    ledger.create_session(CommandContext(tenant_id="elsewhere", actor="mallory"))
    return {"session": sid}


async def test_admins_read_their_tenants_events_with_envelope(
    client: httpx.AsyncClient, trail: dict[str, str]
) -> None:
    response = await client.get("/v1/audit")

    assert response.status_code == 200
    body = response.json()
    assert [e["type"] for e in body["data"]] == [
        "Session.Created",
        "Session.MessageAppended",
        "Agent.Created",
    ]
    assert {e["tenant_id"] for e in body["data"]} == {"local"}
    assert {e["actor"] for e in body["data"]} == {"local"}
    appended = body["data"][1]
    assert appended["session_id"] == trail["session"] == appended["stream_id"]
    assert (appended["correlation_id"], appended["trace_id"]) == ("corr-42", "b" * 32)
    assert appended["version"] == 2 and appended["stream_kind"] == "Session"
    assert body["next_cursor"] is None


async def test_auditors_may_read_the_trail_and_members_may_not(
    connect: Connect, trail: dict[str, str]
) -> None:
    auditor = await connect("auditor").get("/v1/audit")
    member = await connect("member").get("/v1/audit", params={"format": "csv"})

    assert auditor.status_code == 200 and len(auditor.json()["data"]) == 3
    assert member.status_code == 403
    assert member.headers["content-type"] == "application/problem+json"


async def test_the_actor_recorded_is_the_authenticated_principal(
    connect: Connect, client: httpx.AsyncClient
) -> None:
    admin = connect("admin")
    await admin.post("/v1/sessions", json={"title": "by a principal"})

    response = await client.get("/v1/audit", params={"actor": "admin-1"})

    assert [e["type"] for e in response.json()["data"]] == ["Session.Created"]


async def test_filters_narrow_the_trail(client: httpx.AsyncClient, trail: dict[str, str]) -> None:
    async def types(**params: Any) -> list[str]:
        response = await client.get("/v1/audit", params=params)
        assert response.status_code == 200, response.text
        return [e["type"] for e in response.json()["data"]]

    everything = (await client.get("/v1/audit")).json()["data"]
    second_time = everything[1]["recorded_at"]

    assert await types(type="Session.") == ["Session.Created", "Session.MessageAppended"]
    assert await types(type="Agent.Created") == ["Agent.Created"]
    assert await types(session_id=trail["session"]) == [
        "Session.Created",
        "Session.MessageAppended",
    ]
    assert await types(actor="nobody") == []
    assert await types(since=second_time) == ["Session.MessageAppended", "Agent.Created"]
    assert await types(until=second_time) == ["Session.Created"]


async def test_pages_continue_with_the_cursor(
    client: httpx.AsyncClient, trail: dict[str, str]
) -> None:
    first = (await client.get("/v1/audit", params={"limit": 2})).json()
    second = await client.get("/v1/audit", params={"limit": 2, "cursor": first["next_cursor"]})

    assert [e["position"] for e in first["data"] + second.json()["data"]] == [
        e["position"] for e in (await client.get("/v1/audit")).json()["data"]
    ]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2025-01-01T00:00:00"},  # no UTC offset
        {"cursor": "bm90LWEtY3Vyc29y"},
        {"limit": 0},
        {"limit": 1001},
        {"format": "xml"},
        {"actor": "a\x00b"},
    ],
)
async def test_bad_filters_are_422_before_anything_streams(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    for fmt in ("json", "ndjson"):
        response = await client.get("/v1/audit", params={"format": fmt, **params})
        assert response.status_code == 422, (params, response.text)


async def test_ndjson_and_csv_exports_hold_what_the_json_pages_hold(
    client: httpx.AsyncClient, trail: dict[str, str]
) -> None:
    pages = (await client.get("/v1/audit")).json()["data"]

    ndjson = await client.get("/v1/audit", params={"format": "ndjson"})
    by_accept = await client.get("/v1/audit", headers={"Accept": "text/csv"})

    assert ndjson.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in ndjson.text.splitlines()] == pages
    assert by_accept.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(by_accept.text)))
    assert rows == [{k: "" if v is None else str(v) for k, v in page.items()} for page in pages]


async def test_an_export_streams_a_long_trail_over_real_http(
    ledger: Ledger, settings: Settings
) -> None:
    ctx = CommandContext(tenant_id="local", actor="writer")
    session = ledger.create_session(ctx)
    for n in range(30):
        ledger.append_messages(
            ctx, session.id, [Message.user(f"m{i}") for i in range(40 * n, 40 * n + 40)]
        )
    app = create_app(ledger, settings)

    with serving(app) as url:
        async with (
            httpx.AsyncClient(base_url=url) as http,
            http.stream("GET", "/v1/audit", params={"format": "ndjson"}) as response,
        ):
            chunks = [chunk async for chunk in response.aiter_raw()]

    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 1 + 30 * 40
    assert len(chunks) > 1  # sent as it was read, not as one body
    assert [json.loads(line)["version"] for line in lines] == list(range(1, 1202))
