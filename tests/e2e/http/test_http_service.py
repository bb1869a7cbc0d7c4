"""The service around the API: liveness, readiness, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.ledger import Ledger

pytestmark = pytest.mark.anyio

ROUTES = {
    "/v1/sessions": {"get", "post"},
    "/v1/sessions/{session_id}": {"get", "patch", "put", "delete"},
    "/v1/sessions/{session_id}/metadata": {"get"},
    "/v1/sessions/{session_id}/messages": {"get", "post", "delete"},
    "/v1/sessions/{session_id}/messages/{message_id}/redact": {"post"},
    "/v1/sessions/{session_id}/events": {"get"},
    "/v1/sessions/{session_id}/state": {"get"},
    "/v1/sessions/{session_id}/completions/{completion_id}/context": {"get"},
    "/v1/sessions/{session_id}/chat": {"post"},
    "/v1/sessions/{session_id}/suggestions": {"get"},
    "/v1/sessions/{session_id}/summarize": {"post"},
    "/v1/sessions/{session_id}/diff": {"get"},
    "/v1/sessions/{session_id}/fork": {"post"},
    "/v1/sessions/{session_id}/copy": {"post"},
    "/v1/sessions/merge": {"post"},
    "/v1/sessions/{session_id}/export": {"get"},
    "/v1/sessions/import": {"post"},
    "/v1/sessions/{session_id}/replay": {"post"},
    "/v1/replays": {"post"},
    "/v1/agents": {"get", "post"},
    "/v1/agents/{agent_id}": {"get", "patch", "put", "delete"},
    "/v1/keys": {"get", "post"},
    "/v1/keys/{key_id}": {"get", "delete"},
    "/v1/audit": {"get"},
    "/v1/verify": {"post"},
    "/v1/digest": {"get"},
    "/v1/digest/public-key": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}

PROJECTIONS = {"session_list", "history", "agent_list", "completions", "api_keys", "audit"}


async def test_the_service_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_the_database_and_each_projections_lag(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert {p["name"] for p in body["projections"]} == PROJECTIONS
    for projection in body["projections"]:
        assert projection["lag"] == projection["head"] - projection["position"] == 0
        assert projection["head"] >= 1


async def test_readiness_fails_with_503_when_the_database_cannot_answer(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    ledger.close()

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert response.json()["database"] != "ok"


async def test_openapi_documents_every_route_with_its_problems(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert schema["info"]["title"] == "chatledger"
    documented = {
        path: {m for m in operations if m in {"get", "post", "put", "patch", "delete"}}
        for path, operations in schema["paths"].items()
    }
    assert documented == ROUTES
    for path, methods in ROUTES.items():
        for method in methods:
            responses = schema["paths"][path][method]["responses"]
            success = [s for s in responses if s.startswith("2")]
            assert success, (path, method)
            for status, response in responses.items():
                if status.startswith("4"):
                    assert list(response["content"]) == ["application/problem+json"]
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }
            if path.startswith("/v1/sessions/{session_id}"):
                assert "404" in responses, (path, method)
    listed = schema["paths"]["/v1/sessions"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["$ref"].endswith(
        "PageOut_SessionSummaryOut_"
    )


async def test_openapi_documents_the_chat_route_as_json_or_an_event_stream(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()

    operation = schema["paths"]["/v1/sessions/{session_id}/chat"]["post"]
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/TurnResult"}
    stream = content["text/event-stream"]["schema"]
    names = ["execution", "thinking", "tool_start", "tool_end", "content", "done", "error"]
    assert sorted(stream["discriminator"]["mapping"]) == sorted(names)
    for name in names:
        assert f"`{name}`" in stream["description"]
        ref = stream["discriminator"]["mapping"][name].rsplit("/", 1)[-1]
        assert schema["components"]["schemas"][ref]["properties"]["event"]["const"] == name
    assert {"429", "502", "504"} <= set(operation["responses"])
    params = {p["name"] for p in operation["parameters"]}
    assert "Idempotency-Key" in params


async def test_openapi_documents_bundles_as_ndjson_and_replays_as_json_or_html(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    exported = paths["/v1/sessions/{session_id}/export"]["get"]["responses"]["200"]["content"]
    imported = paths["/v1/sessions/import"]["post"]
    assert list(exported) == ["application/x-ndjson"]
    assert set(imported["requestBody"]["content"]) == {
        "application/x-ndjson",
        "application/octet-stream",
        "text/plain",
    }
    assert {"413", "415", "422"} <= set(imported["responses"])
    for path in ("/v1/sessions/{session_id}/replay", "/v1/replays"):
        content = paths[path]["post"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/html"}
    merged = paths["/v1/sessions/merge"]["post"]["responses"]
    assert merged["201"]["content"]["application/json"]["schema"]["$ref"].endswith("SessionOut")
