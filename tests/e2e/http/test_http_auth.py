"""Authentication over HTTP: API keys, the open local mode, revocation, brute force,
key management, and idempotency keys scoped by principal."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from tests.support.api_keys import secret_of
from tests.support.live_server import serving

pytestmark = pytest.mark.anyio

A = CommandContext(tenant_id="A", actor="operator")
B = CommandContext(tenant_id="B", actor="operator")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def denials(ledger: Ledger) -> list[dict[str, Any]]:
    notifications = ledger.engine.recorder.select_notifications(
        start=1, limit=1000, topics=["chatledger.Access.Denied"]
    )
    return [json.loads(n.state) for n in notifications]


async def test_without_keys_the_api_serves_the_local_tenant_as_admin(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    created = await client.post("/v1/sessions", json={"title": "tour"})

    assert created.status_code == 201
    assert created.json()["tenant_id"] == "local"
    [event] = ledger.list_events("local", created.json()["id"]).data
    assert event.actor == "local"


async def test_once_a_key_exists_every_request_needs_one(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    issued = await client.post("/v1/keys", json={"role": "member", "name": "ci-bot"})
    assert issued.status_code == 201
    token, key_id = issued.json()["key"], issued.json()["id"]

    refused = await client.get("/v1/sessions")
    by_bearer = await client.post("/v1/sessions", json={"title": "x"}, headers=bearer(token))
    by_header = await client.get("/v1/sessions", headers={"X-API-Key": token})

    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="chatledger"'
    assert (by_bearer.status_code, by_header.status_code) == (201, 200)
    assert by_bearer.json()["tenant_id"] == "local"
    [event] = ledger.list_events("local", by_bearer.json()["id"]).data
    assert event.actor == f"ci-bot (key:{key_id})"  # the name, and the id no one chooses
    assert (await client.get("/healthz")).status_code == 200


async def test_a_key_without_a_name_acts_as_its_id(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    issued = ledger.create_api_key(A, role="member")

    created = await client.post("/v1/sessions", headers=bearer(issued.token))

    [event] = ledger.list_events("A", created.json()["id"]).data
    assert (event.tenant_id, event.actor) == ("A", f"key:{issued.key.id}")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer clk_" + "0" * 32 + "_" + "x" * 43},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": ""},
        {},
    ],
    ids=["unknown", "malformed", "other-scheme", "empty", "none"],
)
async def test_anything_but_a_valid_key_is_401(
    client: httpx.AsyncClient, ledger: Ledger, headers: dict[str, str]
) -> None:
    ledger.create_api_key(A, role="admin")

    response = await client.get("/v1/agents", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_secret_is_shown_once_and_neither_it_nor_its_hash_ever_again(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    admin = ledger.create_api_key(A, role="admin").token
    created = await client.post("/v1/keys", json={"role": "auditor"}, headers=bearer(admin))
    token, key_id = created.json()["key"], created.json()["id"]
    secret = secret_of(token)
    digest = ledger.get_api_key("A", key_id).secret_sha256

    listed = await client.get("/v1/keys", headers=bearer(admin))
    one = await client.get(f"/v1/keys/{key_id}", headers=bearer(admin))

    assert created.headers["cache-control"] == "no-store"
    assert created.headers["location"] == f"/v1/keys/{key_id}"
    assert {k["id"] for k in listed.json()["data"]} == {key_id, ledger.list_api_keys("A")[0].id}
    for response in (listed, one):
        assert response.status_code == 200
        assert secret not in response.text and digest not in response.text
        assert "key" not in response.json() and "secret_sha256" not in response.text


async def test_a_revoked_key_is_401_and_the_attempt_is_recorded(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    root = ledger.create_api_key(A, role="admin", name="root")
    admin = root.token
    member = ledger.create_api_key(A, role="member")
    assert (await client.get("/v1/sessions", headers=bearer(member.token))).status_code == 200

    revoked = await client.delete(f"/v1/keys/{member.key.id}", headers=bearer(admin))
    again = await client.delete(f"/v1/keys/{member.key.id}", headers=bearer(admin))
    refused = await client.get("/v1/sessions", headers=bearer(member.token))

    assert revoked.json()["status"] == "revoked" and again.status_code == 200
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    [denial] = denials(ledger)
    assert (denial["tenant_id"], denial["status"], denial["key_id"]) == ("A", 401, member.key.id)
    assert denial["correlation_id"] == refused.headers["x-correlation-id"]
    revocations = list(ledger.engine.events.get(UUID(member.key.id)))[1:]
    assert [(type(e).__name__, e.actor) for e in revocations] == [
        ("Revoked", f"root (key:{root.key.id})")
    ]


async def test_a_role_refused_an_admin_operation_is_recorded_and_sees_nothing(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    target = ledger.create_api_key(A, role="member", name="target")
    actors = {}
    for role in ("member", "auditor"):
        issued = ledger.create_api_key(A, role=role, name=role)
        token, actors[role] = issued.token, f"{role} (key:{issued.key.id})"
        response = await client.delete(f"/v1/keys/{target.key.id}", headers=bearer(token))
        unknown = await client.delete(f"/v1/keys/{'0' * 32}", headers=bearer(token))
        assert response.status_code == unknown.status_code == 403  # existence never shows

    assert [(d["actor"], d["role"], d["method"], d["route"]) for d in denials(ledger)] == [
        (actors[role], role, "DELETE", "/v1/keys/{key_id}")
        for role in ("member", "member", "auditor", "auditor")
    ]
    assert ledger.get_api_key("A", target.key.id).status == "active"
    # ... and the audit trail shows each refusal, attributed, to the tenant's auditors.
    auditor = ledger.create_api_key(A, role="auditor", name="reviewer").token
    trail = await client.get("/v1/audit", params={"type": "Access.Denied"}, headers=bearer(auditor))
    assert trail.status_code == 200
    assert [(e["actor"], e["type"], e["tenant_id"]) for e in trail.json()["data"]] == [
        (actors[role], "Access.Denied", "A") for role in ("member", "member", "auditor", "auditor")
    ]


async def test_an_admin_creates_keys_in_its_own_tenant_only(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    admin_b = ledger.create_api_key(B, role="admin").token
    key_a = ledger.create_api_key(A, role="member")

    created = await client.post(
        "/v1/keys", json={"role": "admin", "tenant_id": "A"}, headers=bearer(admin_b)
    )
    made = await client.post("/v1/keys", json={"role": "admin"}, headers=bearer(admin_b))
    foreign = await client.get(f"/v1/keys/{key_a.key.id}", headers=bearer(admin_b))

    assert created.status_code == 422  # tenant_id is the server's to set
    assert made.json()["tenant_id"] == "B"
    assert foreign.status_code == 404


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, auth_max_failures=5, auth_failure_window=3600)


def test_a_client_that_keeps_failing_is_answered_429_over_real_http(ledger: Ledger) -> None:
    settings = Settings(
        database_url="memory://", auth="required", auth_max_failures=5, auth_failure_window=3600
    )
    good = ledger.create_api_key(A, role="member").token
    with serving(create_app(ledger, settings)) as url, httpx.Client(base_url=url) as http:
        statuses = []
        for attempt in range(200):
            response = http.get("/v1/sessions", headers=bearer(f"clk_{attempt:032x}_" + "x" * 43))
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        blocked = http.get("/v1/sessions", headers=bearer(good))
        unauthenticated = http.get("/v1/sessions")

    assert statuses == [401] * 5 + [429]
    assert 0 < int(response.headers["retry-after"]) <= 3600
    assert response.headers["content-type"] == "application/problem+json"
    assert blocked.status_code == 429  # the address, not the key, is held back
    assert unauthenticated.status_code == 401


async def test_auth_required_refuses_requests_before_any_key_exists(ledger: Ledger) -> None:
    settings = Settings(database_url="memory://", auth="required")
    transport = httpx.ASGITransport(app=create_app(ledger, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/sessions")).status_code == 401


async def test_auth_off_serves_the_local_tenant_even_when_keys_exist(ledger: Ledger) -> None:
    ledger.create_api_key(A, role="member")
    settings = Settings(database_url="memory://", auth="off")
    transport = httpx.ASGITransport(app=create_app(ledger, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/v1/sessions", json={"title": "x"})
    assert (response.status_code, response.json()["tenant_id"]) == (201, "local")


async def test_an_idempotency_key_is_scoped_by_tenant_and_principal(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    alice = ledger.create_api_key(A, role="member", name="alice").token
    carol = ledger.create_api_key(A, role="member", name="carol").token
    mallory = ledger.create_api_key(B, role="member", name="mallory").token
    mine = (await client.post("/v1/sessions", headers=bearer(alice))).json()["id"]
    theirs = (await client.post("/v1/sessions", headers=bearer(mallory))).json()["id"]
    turn = {"message": "hello"}
    key = {"Idempotency-Key": "1"}  # low entropy on purpose

    first = await client.post(f"/v1/sessions/{mine}/chat", json=turn, headers=bearer(alice) | key)
    retried = await client.post(f"/v1/sessions/{mine}/chat", json=turn, headers=bearer(alice) | key)
    colleague = await client.post(
        f"/v1/sessions/{mine}/chat", json=turn, headers=bearer(carol) | key
    )
    foreign = await client.post(
        f"/v1/sessions/{mine}/chat", json=turn, headers=bearer(mallory) | key
    )
    own = await client.post(f"/v1/sessions/{theirs}/chat", json=turn, headers=bearer(mallory) | key)

    assert (first.status_code, retried.json()["replayed"]) == (200, True)
    assert retried.json()["completion_id"] == first.json()["completion_id"]
    assert colleague.status_code == 422 and "another principal" in colleague.json()["detail"]
    assert foreign.status_code == 404
    assert own.status_code == 200 and own.json()["replayed"] is False
    assert own.json()["session_id"] == theirs
    assert own.json()["completion_id"] != first.json()["completion_id"]


async def test_the_openapi_document_declares_the_key_schemes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    protected = document["paths"]["/v1/sessions"]["get"]
    probe = document["paths"]["/healthz"]["get"]

    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer clk_…`",
    }
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    assert protected["security"] == [{"bearer": []}, {"apiKey": []}]
    assert {"401", "403"} <= set(protected["responses"])
    assert "security" not in probe
