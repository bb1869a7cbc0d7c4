"""The API key view (`api_keys`) and refused-access events, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from uuid import UUID

from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.context import CommandContext
from tests.support.api_keys import secret_of

A = CommandContext(tenant_id="A", actor="alice")
B = CommandContext(tenant_id="B", actor="bob")


def test_keys_are_listed_per_tenant_with_their_status(ledger: Ledger) -> None:
    assert not ledger.has_api_keys()
    first = ledger.create_api_key(A, role="admin", name="ops")
    second = ledger.create_api_key(A, role="auditor")
    foreign = ledger.create_api_key(B, role="member", name="theirs")
    ledger.revoke_api_key(A, second.key.id)

    listed = [(k.id, k.role, k.name, k.status, k.created_by) for k in ledger.list_api_keys("A")]

    assert listed == [
        (first.key.id, "admin", "ops", "active", "alice"),
        (second.key.id, "auditor", "", "revoked", "alice"),
    ]
    assert [k.id for k in ledger.list_api_keys("B")] == [foreign.key.id]
    assert len(ledger.list_api_keys(None)) == 3
    assert ledger.has_api_keys()
    assert ledger.get_api_key("A", second.key.id).revoked_at is not None


def test_the_stored_events_hold_the_hash_and_never_the_secret(ledger: Ledger) -> None:
    issued = ledger.create_api_key(A, role="member")
    secret = secret_of(issued.token)

    stored = ledger.engine.recorder.select_events(UUID(issued.key.id))

    assert [s.topic for s in stored] == ["chatledger.ApiKey.Created"]
    assert secret.encode() not in bytes(stored[0].state)
    assert json.loads(stored[0].state)["secret_sha256"] == issued.key.secret_sha256


def test_rebuilding_the_view_gives_the_live_view(ledger: Ledger) -> None:
    kept = ledger.create_api_key(A, role="admin")
    revoked = ledger.create_api_key(B, role="member")
    ledger.revoke_api_key(B, revoked.key.id)
    live = ledger.list_api_keys(None)

    ledger.rebuild_projection("api_keys")

    assert ledger.list_api_keys(None) == live
    assert str(ledger.authenticate(kept.token).id) == kept.key.id


def test_a_refusal_is_recorded_with_its_envelope(ledger: Ledger) -> None:
    ctx = A.model_copy(update={"correlation_id": "corr-1", "trace_id": "f" * 32})
    ledger.record_access_denied(
        ctx, method="DELETE", route="/v1/keys/{key_id}", role="member", status=403, key_id="k1"
    )

    [notification] = ledger.engine.recorder.select_notifications(
        start=1, limit=10, topics=["chatledger.Access.Denied"]
    )
    data = json.loads(notification.state)

    assert {k: data[k] for k in ("tenant_id", "actor", "correlation_id", "trace_id")} == {
        "tenant_id": "A",
        "actor": "alice",
        "correlation_id": "corr-1",
        "trace_id": "f" * 32,
    }
    assert (data["method"], data["route"], data["role"], data["status"]) == (
        "DELETE",
        "/v1/keys/{key_id}",
        "member",
        403,
    )


def test_a_rebuild_of_the_key_view_is_never_seen_half_done(ledger: Ledger) -> None:
    first = ledger.create_api_key(A, role="member")
    ledger.runner.batch_size = 2  # several batches: a rebuild in steps shows each step
    for n in range(4):
        ledger.create_agent(A, AgentFields(name=f"filler {n}"))
    last = ledger.create_api_key(A, role="member")
    seen: list[set[str]] = []

    def look(position: int, head: int) -> None:  # between (or inside) the rebuild's steps
        seen.append({k.id for k in ledger.list_api_keys("A")})

    ledger.runner.rebuild("api_keys", on_progress=look)

    assert seen and all(keys == {first.key.id, last.key.id} for keys in seen)
