"""The authorization matrix: every operation of the OpenAPI document, called as tenants A
and B in each role (member, auditor, admin) with tenant A's real ids, and without a key.

`MATRIX` (in `tests/support/operations.py`) has one row per operation: the roles it
allows and how to call it. Ids in paths, queries, headers and bodies are written as
`{session_id}`, `{agent_id}`, `{key_id}`, … and filled with tenant A's objects (fresh
ones for each call A makes, since some calls delete or revoke them). For each operation:

- without a key, with an unknown key and with a malformed one: 401;
- as A in each role: an allowed status, or 403 when the role lacks the right, and each
  403 recorded as an `Access.Denied` event;
- as B in each role, with A's ids: 403 when B's role lacks the right (roles are checked
  first), else 404 for an operation on A's ids, else an allowed status; never A's data;
- as B, for an operation naming several objects, with B's own ids and one of A's, for each
  id parameter in turn: still 404 (each id is checked, not only the first).

An operation the OpenAPI document has and `MATRIX` lacks fails
`test_the_matrix_covers_every_operation`, naming it. The matrix runs on SQLite over the
ASGI app; tenant isolation of lists on both backends is in `test_http_tenant_isolation.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from adapters.api_key_tokens import parse_token
from adapters.ledger import Ledger
from tests.support.operations import (
    MARKER,
    MATRIX,
    READ,
    World,
    build,
    make_objects,
    named_ids,
    opened_world,
    operation_of,
    takes_ids,
)

OPEN_OPERATIONS = frozenset({"GET /healthz", "GET /readyz"})
"""Probes answer without a key; they carry no tenant's data."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with opened_world(tmp_path_factory.mktemp("matrix")) as world:
        yield world


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


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
    rows = {" ".join(operation_of(key)) for key in MATRIX}
    missing = sorted(operations - rows - OPEN_OPERATIONS)
    stale = sorted(rows - operations)
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
            method, path = operation_of(operation)
            key_id = parse_token(world.keys[("A", role)])[0]  # type: ignore[index]
            assert (denial["tenant_id"], denial["actor"], denial["role"]) == (
                "A",
                f"A-{role} (key:{key_id})",
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
    assert (session.title, session.version) == (MARKER, 6)
    assert world.ledger.get_api_key("A", ids["key_id"]).status == "active"
    assert world.ledger.get_agent("A", ids["agent_id"]).version == 1


MIXED = sorted(
    (operation, name)
    for operation, row in MATRIX.items()
    if len(names := named_ids(operation, row)) > 1
    for name in names
)
"""(operation, id parameter) for operations that name several objects."""


@pytest.mark.anyio
@pytest.mark.parametrize(("operation", "name"), MIXED)
async def test_one_of_a_s_ids_among_b_s_own_is_not_found(
    world: World, client: httpx.AsyncClient, operation: str, name: str
) -> None:
    row = MATRIX[operation]
    ids = world.own | {name: world.shared[name]}
    for role in sorted(row.roles):
        request = build(operation, row, ids, world.keys[("B", role)])
        response = await client.send(request)
        expected = row.foreign if row.foreign is not None else frozenset({404})
        assert response.status_code in expected, (operation, name, role, response.text)
        assert leaks(response, request, world.shared) == [], (operation, name, response.text)
