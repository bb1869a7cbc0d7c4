"""Comparing and branching sessions over HTTP: diff two versions, fork, copy and merge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.ledger import Ledger
from domain.context import CommandContext

pytestmark = pytest.mark.anyio


async def _session(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post("/v1/sessions", json=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _append(client: httpx.AsyncClient, sid: str, *texts: str) -> list[dict[str, Any]]:
    body = {"messages": [{"role": "user", "content": text} for text in texts]}
    response = await client.post(f"/v1/sessions/{sid}/messages", json=body)
    assert response.status_code == 201, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def _history(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/sessions/{sid}/messages")
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["data"]
    return messages


async def _events(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/sessions/{sid}/events", params={"limit": 1000})
    events: list[dict[str, Any]] = response.json()["data"]
    return events


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for m in messages for block in m["content"]]


# Diff


async def test_a_diff_lists_the_fields_that_changed_and_the_messages_added(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client, title="v1", metadata={"tier": "free"})  # version 1
    await _append(client, sid, "one")  # 2
    await _append(client, sid, "two")  # 3
    patched = await client.patch(f"/v1/sessions/{sid}", json={"title": "v2", "metadata": {"a": 1}})
    assert patched.json()["version"] == 5  # a title and a metadata event

    response = await client.get(f"/v1/sessions/{sid}/diff", params={"from": 1, "to": 5})

    assert response.status_code == 200
    diff = response.json()
    assert (diff["session_id"], diff["from_version"], diff["to_version"]) == (sid, 1, 5)
    assert diff["changes"] == {
        "title": {"before": "v1", "after": "v2"},
        "metadata": {"before": {"tier": "free"}, "after": {"tier": "free", "a": 1}},
    }
    assert diff["messages_removed"] == []
    assert _texts(diff["messages_added"]) == ["one", "two"]
    assert [m["role"] for m in diff["messages_added"]] == ["user", "user"]
    between = (await client.get(f"/v1/sessions/{sid}/diff", params={"from": 2, "to": 3})).json()
    assert between["changes"] == {} and _texts(between["messages_added"]) == ["two"]


async def test_a_diff_across_a_clear_names_the_messages_it_removed(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)
    recorded = await _append(client, sid, "one", "two")  # versions 2 and 3
    assert (await client.delete(f"/v1/sessions/{sid}/messages")).status_code in (200, 204)
    await _append(client, sid, "three")  # version 5

    diff = (await client.get(f"/v1/sessions/{sid}/diff", params={"from": 3, "to": 5})).json()

    assert diff["messages_removed"] == [m["id"] for m in recorded]
    assert _texts(diff["messages_added"]) == ["three"]
    assert diff["changes"] == {}
    undo = (await client.get(f"/v1/sessions/{sid}/diff", params={"from": 5, "to": 3})).json()
    assert _texts(undo["messages_added"]) == ["one", "two"]
    assert len(undo["messages_removed"]) == 1


async def test_a_diff_outside_the_stream_is_refused_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    sid = await _session(client)
    await _append(client, sid, "one")  # the stream has versions 1 and 2
    url = f"/v1/sessions/{sid}/diff"

    cases: list[tuple[dict[str, Any], str]] = [
        ({"from": 3, "to": 1}, "query.from"),
        ({"from": 1, "to": 3}, "query.to"),
        ({"from": 9, "to": 9}, "query.from"),
        ({"from": 0, "to": 1}, "query.from"),
        ({"from": 1}, "query.to"),
        ({"from": "two", "to": 1}, "query.from"),
    ]
    for params, field in cases:
        response = await client.get(url, params=params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field, params
    beyond = (await client.get(url, params={"from": 1, "to": 3})).json()
    assert "between 1 and 2" in beyond["detail"]


# Fork and copy


async def test_a_fork_at_a_version_holds_the_source_history_until_then_and_its_own(
    client: httpx.AsyncClient,
) -> None:
    source = await _session(client, title="Trip", metadata={"k": "v"})
    await _append(client, source, "one")  # version 2
    await _append(client, source, "two")  # version 3
    await _append(client, source, "three")  # version 4, after the fork point

    response = await client.post(
        f"/v1/sessions/{source}/fork", json={"at_version": 3, "title": "Trip, take two"}
    )

    assert response.status_code == 201, response.text
    fork = response.json()
    assert response.headers["location"] == f"/v1/sessions/{fork['id']}"
    assert (fork["title"], fork["metadata"], fork["message_count"]) == (
        "Trip, take two",
        {"k": "v"},
        2,
    )
    await _append(client, fork["id"], "own")
    history = await _history(client, fork["id"])
    assert _texts(history) == ["one", "two", "own"]
    assert [m["origin"] for m in history] == [
        {"session_id": source, "version": 2},
        {"session_id": source, "version": 3},
        None,
    ]
    full = (await client.get(f"/v1/sessions/{fork['id']}", params={"include": "messages"})).json()
    assert [m["origin"] for m in full["messages"]] == [m["origin"] for m in history]
    (forked, _) = await _events(client, fork["id"])
    assert forked["type"] == "Session.Forked"
    assert (forked["data"]["source_id"], forked["data"]["source_version"]) == (source, 3)
    assert _texts(await _history(client, source)) == ["one", "two", "three"]


async def test_a_fork_may_start_with_another_agent_and_situation(
    client: httpx.AsyncClient,
) -> None:
    source = await _session(client, agent_id="a1", situation="Be brief.")

    fork = (
        await client.post(
            f"/v1/sessions/{source}/fork", json={"agent_id": "a2", "situation": "Be thorough."}
        )
    ).json()

    assert (fork["agent_id"], fork["situation"]) == ("a2", "Be thorough.")
    source_now = (await client.get(f"/v1/sessions/{source}")).json()
    assert (source_now["agent_id"], source_now["situation"]) == ("a1", "Be brief.")


async def test_a_fork_beyond_the_source_or_with_unknown_fields_is_refused(
    client: httpx.AsyncClient,
) -> None:
    source = await _session(client)

    beyond = await client.post(f"/v1/sessions/{source}/fork", json={"at_version": 2})
    unknown = await client.post(f"/v1/sessions/{source}/fork", json={"at": 1})

    assert beyond.status_code == 422 and beyond.json()["field"] == "at_version"
    assert unknown.status_code == 422 and unknown.json()["field"] == "body.at"


async def test_a_copy_is_a_fork_at_the_head(client: httpx.AsyncClient) -> None:
    source = await _session(client, title="Original")
    await _append(client, source, "one", "two")

    response = await client.post(f"/v1/sessions/{source}/copy", json={"title": "Copy"})
    untitled = await client.post(f"/v1/sessions/{source}/copy")

    assert response.status_code == 201
    copy = response.json()
    assert copy["title"] == "Copy"
    assert untitled.status_code == 201 and untitled.json()["title"] == "Original"
    history = await _history(client, copy["id"])
    assert _texts(history) == ["one", "two"]
    assert {m["origin"]["session_id"] for m in history} == {source}
    (forked,) = await _events(client, copy["id"])
    assert forked["type"] == "Session.Forked"
    assert forked["data"]["is_copy"] is True and forked["data"]["source_version"] == 3


# Merge


async def test_a_merge_concatenates_or_interleaves_and_each_source_records_it(
    client: httpx.AsyncClient,
) -> None:
    first = await _session(client, title="A", metadata={"from": "a"})
    second = await _session(client, title="B")
    await _append(client, first, "a1")
    await _append(client, second, "b1")
    await _append(client, first, "a2")

    concatenated = await client.post(
        "/v1/sessions/merge", json={"session_ids": [first, second], "policy": "concatenate"}
    )
    interleaved = await client.post(
        "/v1/sessions/merge",
        json={"session_ids": [first, second], "policy": "interleave", "title": "Both"},
    )

    assert concatenated.status_code == 201, concatenated.text
    assert interleaved.status_code == 201, interleaved.text
    one, two = concatenated.json(), interleaved.json()
    assert concatenated.headers["location"] == f"/v1/sessions/{one['id']}"
    assert (one["title"], one["metadata"]) == ("A + B", {"from": "a"})
    assert two["title"] == "Both"
    assert _texts(await _history(client, one["id"])) == ["a1", "a2", "b1"]
    history = await _history(client, two["id"])
    assert _texts(history) == ["a1", "b1", "a2"]
    assert [m["origin"] for m in history] == [
        {"session_id": first, "version": 2},
        {"session_id": second, "version": 2},
        {"session_id": first, "version": 3},
    ]
    (merged,) = await _events(client, two["id"])
    assert merged["type"] == "Session.Merged" and merged["data"]["policy"] == "interleave"
    assert [s["session_id"] for s in merged["data"]["sources"]] == [first, second]
    for source in (first, second):
        marks = [e for e in await _events(client, source) if e["type"] == "Session.MergedInto"]
        assert [e["data"]["target_id"] for e in marks] == [one["id"], two["id"]]


async def test_a_merge_needs_two_or_more_distinct_live_sessions(
    client: httpx.AsyncClient,
) -> None:
    first = await _session(client)
    second = await _session(client)
    assert (await client.delete(f"/v1/sessions/{second}")).status_code == 204

    alone = await client.post("/v1/sessions/merge", json={"session_ids": [first]})
    twice = await client.post("/v1/sessions/merge", json={"session_ids": [first, first]})
    policy = await client.post(
        "/v1/sessions/merge", json={"session_ids": [first, second], "policy": "zip"}
    )
    deleted = await client.post("/v1/sessions/merge", json={"session_ids": [first, second]})

    for response in (alone, twice, policy):
        assert response.status_code == 422
    assert alone.json()["field"] == twice.json()["field"] == "body.session_ids"
    assert policy.json()["field"] == "body.policy"
    assert deleted.status_code == 410
    assert [e["type"] for e in await _events(client, first)] == ["Session.Created"]


async def test_another_tenants_session_cannot_be_diffed_forked_copied_or_merged(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    theirs = str(ledger.create_session(CommandContext(tenant_id="other", actor="x")).id)
    mine = await _session(client)

    responses = [
        await client.get(f"/v1/sessions/{theirs}/diff", params={"from": 1, "to": 1}),
        await client.post(f"/v1/sessions/{theirs}/fork"),
        await client.post(f"/v1/sessions/{theirs}/copy"),
        await client.post("/v1/sessions/merge", json={"session_ids": [mine, theirs]}),
        await client.post("/v1/sessions/not-a-uuid/fork"),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert [e["type"] for e in await _events(client, mine)] == ["Session.Created"]
    listed = (await client.get("/v1/sessions")).json()["data"]
    assert [s["id"] for s in listed] == [mine]
