"""Mass assignment: no write operation lets a client set what the server owns.

For every operation of `MATRIX` with a JSON object body, each server-owned field
(tenant, version, ids, hashes, times, role, usage, cost …) the operation's schema does
not offer is refused with 422 naming it, and nothing is recorded. Every such schema
declares `additionalProperties: false`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.support.operations import MATRIX, World, build, make_objects, opened_world

SERVER_FIELDS: dict[str, Any] = {
    "tenant_id": "B",
    "id": "00000000-0000-0000-0000-000000000001",
    "version": 99,
    "event_id": "00000000-0000-0000-0000-000000000002",
    "hash": "0" * 64,
    "secret_sha256": "0" * 64,
    "key": "clk_x",
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "actor": "mallory",
    "role": "admin",
    "status": "deleted",
    "usage": {"input_tokens": 0, "output_tokens": 0},
    "cost": 0,
    "unknown_field": 1,
}

READS_WITH_A_BODY = frozenset({"POST /v1/verify"})
"""Operations that take a JSON body but record nothing: `verify` reads a signed digest,
whose own fields (hashes, counts) are the document, checked by its signature."""

WRITES = sorted(
    operation
    for operation, row in MATRIX.items()
    if operation.split(" ")[0] in ("POST", "PUT", "PATCH")
    and isinstance(row.json, dict)
    and operation not in READS_WITH_A_BODY
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with opened_world(tmp_path_factory.mktemp("mass")) as world:
        yield world


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def body_schemas(document: dict[str, Any], operation: str) -> list[dict[str, Any]]:
    """The object schemas an operation's JSON body may take (each alternative of a union)."""
    method, path = operation.split(" ", 1)
    content = document["paths"][path][method.lower()]["requestBody"]["content"]
    pending = [content["application/json"]["schema"]]
    found: list[dict[str, Any]] = []
    while pending:
        schema = pending.pop()
        if "$ref" in schema:
            pending.append(document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        elif "anyOf" in schema or "oneOf" in schema:
            pending.extend(schema.get("anyOf", []) + schema.get("oneOf", []))
        elif schema.get("type") == "object":
            found.append(schema)
    return found


def test_every_operation_with_a_json_body_is_covered(world: World) -> None:
    document = world.app.openapi()
    with_json_body = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
        if "application/json" in spec.get("requestBody", {}).get("content", {})
    }
    assert with_json_body - set(WRITES) - READS_WITH_A_BODY == set()


@pytest.mark.anyio
@pytest.mark.parametrize("operation", WRITES)
async def test_server_owned_fields_are_refused(
    world: World, client: httpx.AsyncClient, operation: str
) -> None:
    document = world.app.openapi()
    schemas = body_schemas(document, operation)
    assert schemas and all(s.get("additionalProperties") is False for s in schemas), operation
    offered = {name for s in schemas for name in s.get("properties", {})}
    row = MATRIX[operation]
    for name, value in SERVER_FIELDS.items():
        if name in offered:
            continue
        request = build(operation, row, make_objects(world.ledger), world.keys[("A", "admin")])
        payload = json.loads(request.read()) | {name: value}
        headers = {k: v for k, v in request.headers.items() if k != "content-length"}
        tainted = httpx.Request(request.method, request.url, headers=headers, json=payload)
        head = world.ledger.engine.recorder.max_notification_id()

        response = await client.send(tainted)

        assert response.status_code == 422, (operation, name, response.text)
        assert response.json()["field"] == f"body.{name}", (operation, name)
        assert world.ledger.engine.recorder.max_notification_id() == head
