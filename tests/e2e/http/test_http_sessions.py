"""Sessions over HTTP: create, read, update, delete, and who may see them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.ledger import Ledger
from domain.context import CommandContext

pytestmark = pytest.mark.anyio


async def test_creating_a_session_answers_201_with_its_location_and_etag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/sessions",
        json={
            "title": "Trip",
            "user_id": "u1",
            "agent_id": "a1",
            "situation": "You plan trips.",
            "context": {"city": "Lisbon"},
            "metadata": {"tier": "gold"},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/sessions/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["title"] == "Trip"
    assert body["user_id"] == "u1"
    assert body["agent_id"] == "a1"
    assert body["situation"] == "You plan trips."
    assert body["context"] == {"city": "Lisbon"}
    assert body["metadata"] == {"tier": "gold"}
    assert body["tenant_id"] == "local"
    assert body["status"] == "active"
    assert body["version"] == 1
    assert body["message_count"] == 0


async def test_a_session_is_created_with_its_first_messages(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/sessions",
        json={
            "title": "Imported",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]},
            ],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["message_count"]) == (3, 2)
    assert response.headers["etag"] == '"3"'
    listed = (await client.get(f"/v1/sessions/{body['id']}/messages")).json()["data"]
    assert [(m["role"], m["content"][0]["text"], m["version"]) for m in listed] == [
        ("user", "Hi", 2),
        ("assistant", "Hello!", 3),
    ]


async def test_a_session_with_an_invalid_first_message_is_refused_and_not_created(
    client: httpx.AsyncClient,
) -> None:
    bad_role = await client.post(
        "/v1/sessions", json={"messages": [{"role": "user", "content": "ok"}, {"role": "x"}]}
    )
    nul = await client.post(
        "/v1/sessions",
        json={
            "messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "a\u0000"}]
        },
    )

    assert bad_role.status_code == 422
    assert bad_role.headers["content-type"].startswith("application/problem+json")
    assert bad_role.json()["field"] == "body.messages[1].role"
    assert nul.status_code == 422
    assert nul.headers["content-type"].startswith("application/problem+json")
    assert "messages[1]" in nul.json()["field"]
    assert (await client.get("/v1/sessions")).json()["data"] == []


async def test_a_session_created_without_a_body_has_the_defaults(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/sessions")

    assert response.status_code == 201
    assert response.json()["title"] == ""
    assert response.json()["metadata"] == {}


async def test_a_created_session_reads_back_as_it_was_answered(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    response = await client.get(f"/v1/sessions/{session['id']}")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == session


async def test_including_messages_returns_the_session_with_its_history(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    await client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "hi"})

    plain = (await client.get(f"/v1/sessions/{sid}")).json()
    full = (await client.get(f"/v1/sessions/{sid}", params={"include": "messages"})).json()

    assert plain["messages"] is None
    assert [b["text"] for m in full["messages"] for b in m["content"]] == ["hi"]
    assert full["version"] == 2


async def test_patch_changes_only_the_given_fields_and_merges_metadata(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(
        "/v1/sessions",
        json={"title": "Old", "situation": "Be brief.", "metadata": {"a": 1, "b": {"c": 2}}},
    )
    sid = created.json()["id"]

    response = await client.patch(
        f"/v1/sessions/{sid}", json={"title": "New", "metadata": {"b": {"d": 3}, "a": None}}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "New"
    assert body["situation"] == "Be brief."
    assert body["metadata"] == {"b": {"c": 2, "d": 3}}
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert (await client.get(f"/v1/sessions/{sid}")).json() == body


async def test_put_overwrites_every_field_and_resets_the_omitted_ones(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(
        "/v1/sessions",
        json={"title": "Old", "situation": "Be brief.", "metadata": {"a": 1}, "context": {"x": 1}},
    )
    sid = created.json()["id"]

    response = await client.put(f"/v1/sessions/{sid}", json={"metadata": {"b": 2}})

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == ""
    assert body["situation"] == ""
    assert body["metadata"] == {"b": 2}
    assert body["context"] == {}


async def test_the_metadata_endpoint_answers_the_metadata_object_alone(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/v1/sessions", json={"metadata": {"tier": "gold", "n": [1, 2]}})

    response = await client.get(f"/v1/sessions/{created.json()['id']}/metadata")

    assert response.status_code == 200
    assert response.json() == {"tier": "gold", "n": [1, 2]}


async def test_a_deleted_session_is_gone_from_reads_writes_and_lists(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]

    deleted = await client.delete(f"/v1/sessions/{sid}")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/v1/sessions/{sid}")).status_code == 410
    assert (await client.get(f"/v1/sessions/{sid}/metadata")).status_code == 410
    assert (await client.patch(f"/v1/sessions/{sid}", json={"title": "x"})).status_code == 410
    appended = await client.post(
        f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "still there?"}
    )
    assert appended.status_code == 410
    assert appended.json()["title"] == "Session deleted"
    assert (await client.delete(f"/v1/sessions/{sid}")).status_code == 410
    listed = (await client.get("/v1/sessions")).json()["data"]
    assert sid not in [s["id"] for s in listed]
    everything = (await client.get("/v1/sessions", params={"include_deleted": True})).json()
    assert [s["status"] for s in everything["data"] if s["id"] == sid] == ["deleted"]


async def test_a_dict_shaped_like_the_library_encoding_round_trips_as_plain_data(
    client: httpx.AsyncClient,
) -> None:
    tricky = {"_type_": "x", "_data_": "y"}
    created = await client.post("/v1/sessions", json={"metadata": {"m": tricky}, "context": tricky})
    sid = created.json()["id"]
    await client.post(
        f"/v1/sessions/{sid}/messages",
        json={"role": "user", "content": "hi", "metadata": tricky},
    )

    got = (await client.get(f"/v1/sessions/{sid}", params={"include": "messages"})).json()
    listed = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    summaries = (await client.get("/v1/sessions")).json()["data"]

    assert got["metadata"] == {"m": tricky}
    assert got["context"] == tricky
    assert got["messages"][0]["metadata"] == tricky
    assert listed[0]["metadata"] == tricky
    assert summaries[0]["metadata"] == {"m": tricky}


async def test_unknown_and_malformed_session_ids_are_not_found(client: httpx.AsyncClient) -> None:
    for sid in ("6f1c1e2a-8d8e-4a51-9b8f-1c2d3e4f5a6b", "not-a-uuid", "x%00y"):
        response = await client.get(f"/v1/sessions/{sid}")
        assert response.status_code == 404, sid
        assert response.json()["title"] == "Session not found"
    patched = await client.patch("/v1/sessions/not-a-uuid", json={"title": "x"})
    assert patched.status_code == 404


async def test_another_tenants_session_is_invisible(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    theirs = ledger.create_session(
        CommandContext(tenant_id="someone-else", actor="them"), title="secret"
    )
    sid = str(theirs.id)

    assert (await client.get(f"/v1/sessions/{sid}")).status_code == 404
    assert (await client.get(f"/v1/sessions/{sid}/messages")).status_code == 404
    assert (await client.get(f"/v1/sessions/{sid}/events")).status_code == 404
    assert (await client.get(f"/v1/sessions/{sid}/state")).status_code == 404
    assert (await client.patch(f"/v1/sessions/{sid}", json={"title": "x"})).status_code == 404
    assert (await client.delete(f"/v1/sessions/{sid}")).status_code == 404
    appended = await client.post(
        f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "hi"}
    )
    assert appended.status_code == 404
    assert (await client.get("/v1/sessions")).json()["data"] == []
    assert ledger.get_session("someone-else", sid).version == 1


async def test_commands_record_the_correlation_and_trace_ids_of_the_request(
    client: httpx.AsyncClient,
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.post(
        "/v1/sessions",
        headers={
            "X-Correlation-ID": "req-42",
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        },
    )

    assert response.headers["x-correlation-id"] == "req-42"
    events = (await client.get(f"/v1/sessions/{response.json()['id']}/events")).json()["data"]
    assert events[0]["correlation_id"] == "req-42"
    assert events[0]["trace_id"] == trace_id
    assert events[0]["actor"] == "local"


async def test_an_invalid_correlation_id_or_traceparent_is_replaced_not_echoed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/sessions",
        headers={
            "X-Correlation-ID": "x" * 129,
            "X-Request-ID": "bad\tid",
            "traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        },
    )

    generated = response.headers["x-correlation-id"]
    assert generated not in ("x" * 129, "bad\tid")
    assert len(generated) == 32
    events = (await client.get(f"/v1/sessions/{response.json()['id']}/events")).json()["data"]
    assert events[0]["correlation_id"] == generated
    assert events[0]["trace_id"] is None


async def test_a_request_id_serves_as_correlation_id_when_no_correlation_id_is_sent(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-correlation-id"] == "abc-123"
