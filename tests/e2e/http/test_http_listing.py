"""Listing sessions over HTTP: filters, order by last update, cursor and offset paging."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def _create(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post("/v1/sessions", json=fields)
    assert response.status_code == 201
    sid: str = response.json()["id"]
    return sid


async def _ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/sessions", params=params)
    assert response.status_code == 200
    return [s["id"] for s in response.json()["data"]]


async def test_sessions_filter_by_user_and_by_agent(client: httpx.AsyncClient) -> None:
    ann_bot = await _create(client, user_id="ann", agent_id="bot")
    ann_helper = await _create(client, user_id="ann", agent_id="helper")
    bob_bot = await _create(client, user_id="bob", agent_id="bot")

    assert set(await _ids(client, user_id="ann")) == {ann_bot, ann_helper}
    assert set(await _ids(client, agent_id="bot")) == {ann_bot, bob_bot}
    assert await _ids(client, user_id="ann", agent_id="bot") == [ann_bot]
    assert await _ids(client, user_id="carol") == []


async def test_the_metadata_filter_matches_by_containment_of_nested_objects_and_arrays(
    client: httpx.AsyncClient,
) -> None:
    gold = await _create(
        client, metadata={"tier": "gold", "tags": ["a", "b"], "geo": {"city": "Lisbon", "n": 1}}
    )
    silver = await _create(client, metadata={"tier": "silver", "tags": ["b"], "geo": {"n": 1}})

    def filtered(value: Any) -> dict[str, str]:
        return {"metadata_filter": json.dumps(value)}

    assert await _ids(client, **filtered({"tier": "gold"})) == [gold]
    assert await _ids(client, **filtered({"geo": {"city": "Lisbon"}})) == [gold]
    assert set(await _ids(client, **filtered({"geo": {"n": 1}}))) == {gold, silver}
    assert await _ids(client, **filtered({"tags": ["a"]})) == [gold]
    assert set(await _ids(client, **filtered({"tags": ["b"]}))) == {gold, silver}
    assert await _ids(client, **filtered({"tags": ["c"]})) == []
    assert await _ids(client, **filtered({"tier": "gold", "geo": {"n": 2}})) == []
    assert set(await _ids(client, **filtered({}))) == {gold, silver}


async def test_sessions_are_ordered_by_their_last_update(client: httpx.AsyncClient) -> None:
    first = await _create(client, title="first")
    second = await _create(client, title="second")
    third = await _create(client, title="third")
    await client.patch(f"/v1/sessions/{first}", json={"title": "first, edited"})

    assert await _ids(client) == [first, third, second]
    assert await _ids(client, order="desc") == [first, third, second]
    assert await _ids(client, order="asc") == [second, third, first]


async def test_cursor_paging_walks_three_pages_without_duplicates_or_gaps(
    client: httpx.AsyncClient,
) -> None:
    created = [await _create(client, title=f"s{i}") for i in range(7)]

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/sessions", params=params)).json()
        seen += [s["id"] for s in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == list(reversed(created))


async def test_offset_paging_skips_the_first_sessions(client: httpx.AsyncClient) -> None:
    created = [await _create(client, title=f"s{i}") for i in range(5)]

    page = (
        await client.get("/v1/sessions", params={"order": "asc", "offset": 2, "limit": 2})
    ).json()

    assert [s["id"] for s in page["data"]] == created[2:4]
    assert page["next_cursor"] is not None
    rest = await _ids(client, order="asc", cursor=page["next_cursor"])
    assert rest == created[4:]


async def test_list_rows_summarise_each_session(client: httpx.AsyncClient) -> None:
    sid = await _create(client, title="Trip", user_id="u", agent_id="a", metadata={"k": "v"})
    await client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "hi"})

    (row,) = (await client.get("/v1/sessions")).json()["data"]

    assert row["id"] == sid
    assert row["title"] == "Trip"
    assert row["user_id"] == "u"
    assert row["agent_id"] == "a"
    assert row["metadata"] == {"k": "v"}
    assert row["message_count"] == 1
    assert row["version"] == 2
    assert row["status"] == "active"


async def test_list_parameters_that_cannot_be_used_are_refused_naming_them(
    client: httpx.AsyncClient,
) -> None:
    cases: dict[str, dict[str, Any]] = {
        "query.limit": {"limit": 0},
        "query.offset": {"offset": -1},
        "query.order": {"order": "sideways"},
        "query.metadata_filter": {"metadata_filter": "{not json"},
        "query.cursor": {"cursor": "bm90IGEgY3Vyc29y"},
        "query.user_id": {"user_id": "a\x00b"},
    }
    for field, params in cases.items():
        response = await client.get("/v1/sessions", params=params)
        assert response.status_code == 422, field
        assert response.json()["field"] == field

    not_an_object = await client.get("/v1/sessions", params={"metadata_filter": "[1]"})
    assert not_an_object.json()["field"] == "query.metadata_filter"
    nul_key = await client.get("/v1/sessions", params={"metadata_filter": '{"k\\u0000": 1}'})
    assert nul_key.status_code == 422
    assert nul_key.json()["field"].startswith("query.metadata_filter.k")
