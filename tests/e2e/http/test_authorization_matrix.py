"""The authorization matrix: every operation of the OpenAPI document, called as tenants A
and B in each role (member, auditor, admin) with tenant A's real ids, and without a key.

`MATRIX` has one row per operation: the roles it allows and how to call it. Ids in
paths, queries, headers and bodies are written as `{session_id}`, `{agent_id}`,
`{key_id}`, … and filled with tenant A's objects (fresh ones for each call A makes,
since some calls delete or revoke them). For each operation:

- without a key, with an unknown key and with a malformed one: 401;
- as A in each role: an allowed status, or 403 when the role lacks the right, and each
  403 recorded as an `Access.Denied` event;
- as B in each role, with A's ids: 403 when B's role lacks the right (roles are checked
  first), else 404 for an operation on A's ids, else an allowed status; never A's data.

An operation the OpenAPI document has and `MATRIX` lacks fails
`test_the_matrix_covers_every_operation`, naming it. The matrix runs on SQLite over the
ASGI app; tenant isolation of lists on both backends is in `test_http_tenant_isolation.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.message import Message

READ = frozenset({"member", "auditor", "admin"})
WRITE = frozenset({"member", "admin"})
ADMIN = frozenset({"admin"})
OK = frozenset({200, 201, 204})
OPEN_OPERATIONS = frozenset({"GET /healthz", "GET /readyz"})
"""Probes answer without a key; they carry no tenant's data."""


@dataclass(frozen=True)
class Row:
    """How to call one operation, and who may. Strings may name ids: `{session_id}`."""

    roles: frozenset[str]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: str | None = None
    """A body sent as NDJSON (`{bundle}`: an export of A's session)."""
    ok: frozenset[int] = OK
    foreign: frozenset[int] | None = None
    """What B gets naming A's ids with a role that may call it (default: 404 when the
    call names an id, else `ok`)."""


MATRIX: dict[str, Row] = {
    # An agent id is a reference, resolved in the caller's tenant when the session chats.
    "POST /v1/sessions": Row(WRITE, json={"title": "made", "agent_id": "{agent_id}"}, foreign=OK),
    "GET /v1/sessions": Row(READ, params={"metadata_filter": '{"team": "{marker}"}'}),
    "GET /v1/sessions/{session_id}": Row(READ, params={"include": "messages"}),
    "PATCH /v1/sessions/{session_id}": Row(WRITE, json={"title": "patched"}),
    "PUT /v1/sessions/{session_id}": Row(WRITE, json={"title": "put"}),
    "DELETE /v1/sessions/{session_id}": Row(WRITE),
    "GET /v1/sessions/{session_id}/metadata": Row(READ),
    "GET /v1/sessions/{session_id}/messages": Row(READ),
    "POST /v1/sessions/{session_id}/messages": Row(WRITE, json={"role": "user", "content": "more"}),
    "DELETE /v1/sessions/{session_id}/messages": Row(WRITE),
    "POST /v1/sessions/{session_id}/chat": Row(
        WRITE, json={"message": "hi"}, headers={"Idempotency-Key": "{idempotency_key}"}
    ),
    "GET /v1/sessions/{session_id}/suggestions": Row(READ, ok=frozenset({200, 404})),
    "POST /v1/sessions/{session_id}/summarize": Row(WRITE, json={"text": "in short"}),
    "GET /v1/sessions/{session_id}/events": Row(READ),
    "GET /v1/sessions/{session_id}/state": Row(READ, params={"version": 1}),
    "GET /v1/sessions/{session_id}/diff": Row(READ, params={"from": 1, "to": 2}),
    "POST /v1/sessions/{session_id}/fork": Row(WRITE, json={"at_version": 1}),
    "POST /v1/sessions/{session_id}/copy": Row(WRITE, json={}),
    "POST /v1/sessions/merge": Row(WRITE, json={"session_ids": ["{session_id}", "{other_id}"]}),
    "GET /v1/sessions/{session_id}/export": Row(READ),
    "POST /v1/sessions/import": Row(WRITE, content="{bundle}", params={"new_id": "{session_id}"}),
    "POST /v1/sessions/{session_id}/replay": Row(WRITE, json={"mode": "deterministic"}),
    "POST /v1/replays": Row(WRITE, json={"metadata_filter": {"team": "{marker}"}}),
    "POST /v1/agents": Row(WRITE, json={"name": "made"}),
    "GET /v1/agents": Row(READ),
    "GET /v1/agents/{agent_id}": Row(READ),
    "PATCH /v1/agents/{agent_id}": Row(WRITE, json={"name": "patched"}),
    "PUT /v1/agents/{agent_id}": Row(WRITE, json={"name": "put"}),
    "DELETE /v1/agents/{agent_id}": Row(WRITE),
    "POST /v1/keys": Row(ADMIN, json={"role": "member", "name": "made"}),
    "GET /v1/keys": Row(ADMIN),
    "GET /v1/keys/{key_id}": Row(ADMIN),
    "DELETE /v1/keys/{key_id}": Row(ADMIN),
}

MARKER = "tenant-a-private"
"""Text in every one of tenant A's objects: a body that shows it leaks A's data."""


@dataclass
class World:
    """The app, its ledger, and a key per (tenant, role)."""

    app: FastAPI
    ledger: Ledger
    keys: dict[tuple[str, str], str]
    shared: dict[str, str]
    """Tenant A's objects that tenant B's calls name (B never changes them)."""


def make_objects(ledger: Ledger) -> dict[str, str]:
    """Fresh objects of tenant A, by the names the matrix's templates use."""
    ctx = CommandContext(tenant_id="A", actor="setup")
    session = ledger.create_session(ctx, title=MARKER, metadata={"team": MARKER})
    ledger.append_messages(
        ctx, session.id, [Message.user(f"{MARKER} question"), Message.assistant("answer")]
    )
    other = ledger.create_session(ctx, title=f"{MARKER} other")
    agent_state = ledger.create_agent(ctx, AgentFields(name=MARKER))
    key = ledger.create_api_key(ctx, role="member", name=MARKER)
    bundle = b"".join(ledger.export_session("A", session.id)).decode()
    return {
        "session_id": str(session.id),
        "other_id": str(other.id),
        "agent_id": str(agent_state.id),
        "key_id": key.key.id,
        "idempotency_key": f"{MARKER}-turn",
        "marker": MARKER,
        "bundle": bundle,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = Path(tmp_path_factory.mktemp("matrix")) / "chatledger.db"
    settings = Settings(
        database_url=f"sqlite:///{path}", auth="required", auth_max_failures=1_000_000
    )
    ledger = open_ledger(settings)
    keys = {
        (tenant, role): ledger.create_api_key(
            CommandContext(tenant_id=tenant, actor="operator"), role=role, name=f"{tenant}-{role}"
        ).token
        for tenant in ("A", "B")
        for role in sorted(READ)
    }
    try:
        yield World(create_app(ledger, settings), ledger, keys, make_objects(ledger))
    finally:
        ledger.close()


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def fill(value: Any, ids: dict[str, str]) -> Any:
    """`value` with `{name}` replaced by A's ids, in strings, lists and objects."""
    if isinstance(value, str):
        for name, replacement in ids.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def build(operation: str, row: Row, ids: dict[str, str], key: str | None) -> httpx.Request:
    method, path = operation.split(" ", 1)
    headers = fill(dict(row.headers), ids)
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    kwargs: dict[str, Any] = {"params": fill(row.params, ids), "headers": headers}
    if row.content is not None:
        kwargs["content"] = fill(row.content, ids).encode()
        headers["Content-Type"] = "application/x-ndjson"
    elif row.json is not None:
        kwargs["json"] = fill(row.json, ids)
    return httpx.Request(method, f"http://test{fill(path, ids)}", **kwargs)


def takes_ids(operation: str, row: Row) -> bool:
    """Whether the call names one of A's objects (in its path, query, headers or body)."""
    text = json.dumps([operation, row.params, row.headers, row.json, row.content])
    return any(f"{{{name}}}" in text for name in ("session_id", "agent_id", "key_id", "bundle"))


def leaks(response: httpx.Response, request: httpx.Request, ids: dict[str, str]) -> list[str]:
    """A's data in a response to B: the marker or an id of A's, beyond what B sent (a
    filter or an id B names may be echoed)."""
    body = response.text
    sent = str(request.url) + request.content.decode(errors="replace")
    found = [MARKER] if body.count(MARKER) > sent.count(MARKER) else []
    found += [v for k, v in ids.items() if k.endswith("_id") and v in body and v not in sent]
    return found


def denials_since(ledger: Ledger, position: int) -> list[dict[str, Any]]:
    notifications = ledger.engine.recorder.select_notifications(
        start=position + 1, limit=1000, topics=["chatledger.Access.Denied"]
    )
    return [json.loads(n.state) for n in notifications]


def head(ledger: Ledger) -> int:
    return ledger.engine.recorder.max_notification_id() or 0


def test_the_matrix_covers_every_operation(world: World) -> None:
    document = world.app.openapi()
    operations = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }
    missing = sorted(operations - set(MATRIX) - OPEN_OPERATIONS)
    stale = sorted(set(MATRIX) - operations)
    assert not missing, f"operations missing from the authorization matrix: {missing}"
    assert not stale, f"matrix rows for operations the API no longer has: {stale}"


@pytest.mark.anyio
@pytest.mark.parametrize("operation", sorted(OPEN_OPERATIONS))
async def test_the_probes_answer_without_a_key(client: httpx.AsyncClient, operation: str) -> None:
    method, path = operation.split(" ", 1)
    response = await client.request(method, path)
    assert response.status_code in (200, 503)


@pytest.mark.anyio
@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_without_a_valid_key_every_operation_is_401(
    world: World, client: httpx.AsyncClient, operation: str
) -> None:
    row, ids = MATRIX[operation], world.shared
    unknown = "clk_" + "0" * 32 + "_" + "A" * 43
    for key in (None, unknown, "not-a-key"):
        response = await client.send(build(operation, row, ids, key))
        assert response.status_code == 401, (operation, key, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.anyio
@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_tenant_a_roles_get_exactly_their_rights(
    world: World, client: httpx.AsyncClient, operation: str
) -> None:
    row = MATRIX[operation]
    for role in sorted(READ):
        ids = make_objects(world.ledger)
        before = head(world.ledger)
        response = await client.send(build(operation, row, ids, world.keys[("A", role)]))
        if role in row.roles:
            assert response.status_code in row.ok, (operation, role, response.text)
            assert denials_since(world.ledger, before) == []
        else:
            assert response.status_code == 403, (operation, role, response.text)
            [denial] = denials_since(world.ledger, before)
            method, path = operation.split(" ", 1)
            assert (denial["tenant_id"], denial["actor"], denial["role"]) == (
                "A",
                f"A-{role}",
                role,
            )
            assert (denial["method"], denial["route"], denial["status"]) == (method, path, 403)
            assert denial["correlation_id"] == response.headers["x-correlation-id"]


@pytest.mark.anyio
@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_tenant_b_never_reaches_tenant_a(
    world: World, client: httpx.AsyncClient, operation: str
) -> None:
    row, ids = MATRIX[operation], world.shared
    for role in sorted(READ):
        request = build(operation, row, ids, world.keys[("B", role)])
        response = await client.send(request)
        if role not in row.roles:
            expected: frozenset[int] = frozenset({403})
        elif row.foreign is not None:
            expected = row.foreign
        elif takes_ids(operation, row):
            expected = frozenset({404})
        else:
            expected = row.ok
        assert response.status_code in expected, (operation, role, response.text)
        assert leaks(response, request, ids) == [], (operation, role, response.text)
    # A's objects are as they were: B's calls changed nothing.
    session = world.ledger.get_session("A", ids["session_id"])
    assert (session.title, session.version) == (MARKER, 3)
    assert world.ledger.get_api_key("A", ids["key_id"]).status == "active"
    assert world.ledger.get_agent("A", ids["agent_id"]).version == 1
