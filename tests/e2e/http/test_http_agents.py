"""Agents over HTTP: create, list, get, update, delete, and chat through one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from tests.support.fake_provider import FakeProvider, Reply

pytestmark = pytest.mark.anyio

AGENT = {
    "name": "Travel planner",
    "provider": "openai",
    "model": "gpt-planner",
    "instructions": "You plan trips. Be brief.",
    "settings": {"temperature": 0.2, "max_tokens": 64},
    "tools": [
        {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ],
    "metadata": {"team": "trips"},
}


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings]) -> Settings:
    """The offline provider by default; OpenAI, Anthropic and Gemini served by the fake."""
    return make_fake_settings()


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/agents", json=AGENT | fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_creating_an_agent_answers_201_with_every_field_its_location_and_etag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/agents", json=AGENT)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/agents/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: body[k] for k in ("name", "provider", "model", "instructions", "metadata")} == {
        k: AGENT[k] for k in ("name", "provider", "model", "instructions", "metadata")
    }
    assert body["settings"]["temperature"] == 0.2
    assert body["settings"]["max_tokens"] == 64
    assert body["tools"] == AGENT["tools"]
    assert body["status"] == "active"
    assert body["version"] == 1
    assert body["tenant_id"] == "local"


async def test_an_agent_with_only_a_name_takes_the_defaults(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/agents", json={"name": "Plain"})

    body = response.json()
    assert response.status_code == 201
    assert body["provider"] is None
    assert body["model"] is None
    assert body["instructions"] == ""
    assert body["tools"] == []
    assert body["metadata"] == {}
    assert all(value is None for value in body["settings"].values())


async def test_a_created_agent_reads_back_as_it_was_answered(client: httpx.AsyncClient) -> None:
    agent = await _create(client)

    response = await client.get(f"/v1/agents/{agent['id']}")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == agent


async def test_patch_replaces_only_the_fields_given_and_null_resets_one(
    client: httpx.AsyncClient,
) -> None:
    agent = await _create(client)

    response = await client.patch(
        f"/v1/agents/{agent['id']}",
        json={"model": "gpt-other", "settings": {"top_p": 0.5}, "metadata": None},
        headers={"If-Match": '"1"'},
    )

    body = response.json()
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert body["model"] == "gpt-other"
    assert body["settings"]["top_p"] == 0.5
    assert body["settings"]["temperature"] is None, "settings are replaced as a whole"
    assert body["metadata"] == {}
    assert body["name"] == AGENT["name"]
    assert body["provider"] == "openai"
    assert body["tools"] == AGENT["tools"]
    assert (await client.get(f"/v1/agents/{agent['id']}")).json() == body


async def test_put_replaces_every_field_and_resets_the_ones_left_out(
    client: httpx.AsyncClient,
) -> None:
    agent = await _create(client)

    response = await client.put(f"/v1/agents/{agent['id']}", json={"name": "Renamed"})

    body = response.json()
    assert response.status_code == 200
    assert body["name"] == "Renamed"
    assert body["provider"] is None
    assert body["model"] is None
    assert body["instructions"] == ""
    assert body["tools"] == []
    assert body["metadata"] == {}
    assert body["settings"]["temperature"] is None
    assert body["context_policy"] == "truncate"
    assert body["version"] == 2
    listed = (await client.get("/v1/agents")).json()["data"]
    assert [(a["name"], a["provider"], a["model"]) for a in listed] == [("Renamed", None, None)]


async def test_a_context_limit_and_policy_are_kept_and_the_limit_cannot_be_nulled(
    client: httpx.AsyncClient,
) -> None:
    agent = await _create(client, context_limit=2000, context_policy="summarize")

    nulled = await client.patch(f"/v1/agents/{agent['id']}", json={"context_limit": None})
    raised = await client.patch(f"/v1/agents/{agent['id']}", json={"context_limit": 4000})
    refused = await client.post("/v1/agents", json={"name": "x", "context_policy": "forget"})

    assert (agent["context_limit"], agent["context_policy"]) == (2000, "summarize")
    assert nulled.status_code == 422
    assert nulled.json()["field"] == "body.context_limit"
    assert raised.json()["context_limit"] == 4000
    assert raised.json()["context_policy"] == "summarize"
    assert refused.status_code == 422
    assert refused.json()["field"] == "body.context_policy"


async def test_an_update_against_a_stale_version_is_a_conflict(client: httpx.AsyncClient) -> None:
    agent = await _create(client)
    await client.patch(f"/v1/agents/{agent['id']}", json={"name": "Second"})

    patched = await client.patch(
        f"/v1/agents/{agent['id']}", json={"name": "Third"}, headers={"If-Match": '"1"'}
    )
    deleted = await client.delete(f"/v1/agents/{agent['id']}", headers={"If-Match": '"1"'})

    assert patched.status_code == 409
    assert deleted.status_code == 409
    assert (await client.get(f"/v1/agents/{agent['id']}")).json()["name"] == "Second"


async def test_a_deleted_agent_answers_410_and_leaves_the_list(client: httpx.AsyncClient) -> None:
    agent = await _create(client)
    url = f"/v1/agents/{agent['id']}"

    deleted = await client.delete(url, headers={"If-Match": '"1"'})

    assert deleted.status_code == 204
    assert deleted.content == b""
    for response in (
        await client.get(url),
        await client.patch(url, json={"name": "again"}),
        await client.put(url, json={"name": "again"}),
        await client.delete(url),
    ):
        assert response.status_code == 410
        assert response.json()["title"] == "Agent deleted"
    assert (await client.get("/v1/agents")).json()["data"] == []
    hidden = (await client.get("/v1/agents", params={"include_deleted": "true"})).json()["data"]
    assert [(a["id"], a["status"]) for a in hidden] == [(agent["id"], "deleted")]


@pytest.mark.parametrize("agent_id", ["6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b", "not-a-uuid"])
async def test_an_unknown_agent_is_not_found(client: httpx.AsyncClient, agent_id: str) -> None:
    for response in (
        await client.get(f"/v1/agents/{agent_id}"),
        await client.patch(f"/v1/agents/{agent_id}", json={"name": "x"}),
        await client.delete(f"/v1/agents/{agent_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["title"] == "Agent not found"


async def test_agents_are_listed_newest_first_and_paged_by_cursor_or_offset(
    client: httpx.AsyncClient,
) -> None:
    names = [f"agent {n}" for n in range(5)]
    for name in names:
        await _create(client, name=name)

    first = (await client.get("/v1/agents", params={"limit": 2})).json()
    second = (
        await client.get("/v1/agents", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    third = (
        await client.get("/v1/agents", params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()
    by_offset = (await client.get("/v1/agents", params={"limit": 2, "offset": 2})).json()
    oldest_first = (await client.get("/v1/agents", params={"order": "asc"})).json()

    paged = [a["name"] for page in (first, second, third) for a in page["data"]]
    assert paged == names[::-1]
    assert third["next_cursor"] is None
    assert [a["name"] for a in by_offset["data"]] == names[::-1][2:4]
    assert [a["name"] for a in oldest_first["data"]] == names
    assert first["data"][0]["metadata"] == AGENT["metadata"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "openai"}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "x", "settings": {"temperature": 3}}, "body.settings.temperature"),
        ({"name": "x", "settings": {"colour": "blue"}}, "body.settings.colour"),
        ({"name": "x", "tools": [{"description": "no name"}]}, "body.tools[0].name"),
        ({"name": "x", "metadata": []}, "body.metadata"),
        ({"name": "x", "instructions": "nul \u0000 here"}, "body.instructions"),
    ],
)
async def test_invalid_agents_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/agents", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert (await client.get("/v1/agents")).json()["data"] == []


async def test_a_name_cannot_be_patched_to_null_and_a_foreign_cursor_is_refused(
    client: httpx.AsyncClient,
) -> None:
    agent = await _create(client)

    nulled = await client.patch(f"/v1/agents/{agent['id']}", json={"name": None})
    listed = await client.get("/v1/agents", params={"cursor": "bogus"})

    assert nulled.status_code == 422
    assert nulled.json()["field"] == "body.name"
    assert listed.status_code == 422
    assert listed.json()["field"] == "query.cursor"


async def test_a_session_bound_to_an_agent_chats_with_its_provider_model_and_instructions(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    agent = await _create(client)
    session = (await client.post("/v1/sessions", json={"agent_id": agent["id"]})).json()
    fake_provider.script(Reply(text="Pack a raincoat."))

    response = await client.post(
        f"/v1/sessions/{session['id']}/chat",
        json={"message": "Lisbon in March?", "temperature": 0.9},
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["provider"], result["model"]) == ("openai", "gpt-planner")
    assert result["output"] == "Pack a raincoat."
    sent = fake_provider.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "gpt-planner"
    assert sent.body["messages"][0] == {"role": "system", "content": AGENT["instructions"]}
    assert sent.body["messages"][-1] == {"role": "user", "content": "Lisbon in March?"}
    assert sent.body["temperature"] == 0.9, "the per-call setting overrides the agent's"
    assert 64 in (sent.body.get("max_tokens"), sent.body.get("max_completion_tokens"))
    assert [t["function"]["name"] for t in sent.body["tools"]] == ["get_weather"]


async def test_per_call_provider_and_model_override_the_agents(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    agent = await _create(client)
    session = (await client.post("/v1/sessions", json={"agent_id": agent["id"]})).json()
    fake_provider.script(Reply(text="Bom dia."))

    response = await client.post(
        f"/v1/sessions/{session['id']}/chat",
        json={"message": "Hi", "provider": "anthropic", "settings": {"model": "claude-x"}},
    )

    assert response.status_code == 200, response.text
    assert (response.json()["provider"], response.json()["model"]) == ("anthropic", "claude-x")
    sent = fake_provider.last_request
    assert sent.path == "/v1/messages"
    assert sent.body["model"] == "claude-x"
    assert sent.body["system"] == AGENT["instructions"]
    assert sent.body["max_tokens"] == 64


async def test_a_session_whose_agent_was_deleted_cannot_chat(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    agent = await _create(client)
    session = (await client.post("/v1/sessions", json={"agent_id": agent["id"]})).json()
    await client.delete(f"/v1/agents/{agent['id']}")

    response = await client.post(
        f"/v1/sessions/{session['id']}/chat", json={"message": "hello?", "stream": True}
    )

    assert response.status_code == 410
    assert response.json()["title"] == "Agent deleted"
    assert fake_provider.calls == 0
