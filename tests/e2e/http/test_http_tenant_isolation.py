"""Tenant isolation of every list, on SQLite and PostgreSQL: tenant B, in each role, sees
none of tenant A's sessions, agents or keys, and never chats with A's agent's
configuration."""

from __future__ import annotations

import httpx
import pytest

from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.message import Message
from domain.session import Session

pytestmark = pytest.mark.anyio

A = CommandContext(tenant_id="A", actor="a")
B = CommandContext(tenant_id="B", actor="b")


@pytest.fixture
def a_ids(ledger: Ledger) -> set[str]:
    """Tenant A's objects (a deleted session among them): their ids."""
    live = ledger.create_session(A, title="a-live", metadata={"team": "x"})
    ledger.append_messages(A, live.id, [Message.user("a secret")])
    deleted = ledger.create_session(A, title="a-deleted", metadata={"team": "x"})
    ledger.delete_session(A, deleted.id)
    agent = ledger.create_agent(A, AgentFields(name="a-agent"))
    key = ledger.create_api_key(A, role="admin")
    return {str(live.id), str(deleted.id), str(agent.id), key.key.id}


async def test_lists_show_tenant_b_none_of_tenant_as_objects(
    client: httpx.AsyncClient, ledger: Ledger, a_ids: set[str]
) -> None:
    own = ledger.create_session(B, title="b-own", metadata={"team": "x"})
    lists = [
        ("/v1/sessions", {"include_deleted": "true"}),
        ("/v1/sessions", {"metadata_filter": '{"team": "x"}', "include_deleted": "true"}),
        ("/v1/agents", {"include_deleted": "true"}),
    ]
    for role in ("member", "auditor", "admin"):
        token = ledger.create_api_key(B, role=role).token
        headers = {"Authorization": f"Bearer {token}"}
        for path, params in lists:
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200
            assert not any(i in response.text for i in a_ids), (role, path)
            assert "a-live" not in response.text and "a secret" not in response.text
        sessions = await client.get("/v1/sessions", headers=headers)
        assert [s["id"] for s in sessions.json()["data"]] == [str(own.id)]
    admin = ledger.create_api_key(B, role="admin").token
    keys = await client.get("/v1/keys", headers={"Authorization": f"Bearer {admin}"})
    assert keys.status_code == 200
    assert {k["tenant_id"] for k in keys.json()["data"]} == {"B"}
    assert not any(i in keys.text for i in a_ids)


async def test_a_batch_replay_by_tenant_b_touches_none_of_tenant_as_sessions(
    client: httpx.AsyncClient, ledger: Ledger, a_ids: set[str]
) -> None:
    token = ledger.create_api_key(B, role="member").token

    response = await client.post(
        "/v1/replays", json={"metadata_filter": {}}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    assert response.json()["sessions"] == 0
    assert not any(i in response.text for i in a_ids)


async def test_tenant_b_naming_tenant_as_agent_chats_without_its_configuration(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    # A session may name an agent managed elsewhere; it is looked up in the caller's tenant.
    agent = ledger.create_agent(A, AgentFields(name="a-agent", instructions="a secret"))
    headers = {"Authorization": f"Bearer {ledger.create_api_key(B, role='member').token}"}
    session = await client.post("/v1/sessions", json={"agent_id": str(agent.id)}, headers=headers)
    session_id = session.json()["id"]

    turn = await client.post(
        f"/v1/sessions/{session_id}/chat", json={"message": "hi"}, headers=headers
    )

    assert turn.status_code == 200
    assert "a secret" not in turn.text
    [completion] = [
        e
        for e in ledger.list_events("B", session_id).data
        if isinstance(e, Session.CompletionRecorded)
    ]
    assert completion.manifest.instructions in (None, "")
    assert "a secret" not in (completion.manifest.system or "")
