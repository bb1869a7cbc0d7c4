"""Messages over HTTP: append one or a batch, list and page them, clear, If-Match."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for m in messages for block in m["content"]]


async def _append(client: httpx.AsyncClient, sid: str, *texts: str) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": t} for t in texts]}
    response = await client.post(f"/v1/sessions/{sid}/messages", json=body)
    assert response.status_code == 201
    return response


async def test_appending_one_message_answers_the_session_and_the_recorded_message(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    response = await client.post(
        f"/v1/sessions/{session['id']}/messages",
        json={"role": "user", "content": "Where should I eat?", "name": "ann"},
    )

    assert response.status_code == 201
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert body["session"]["version"] == 2
    assert body["session"]["message_count"] == 1
    (message,) = body["messages"]
    assert message["role"] == "user"
    assert message["name"] == "ann"
    assert [(b["type"], b["text"]) for b in message["content"]] == [("text", "Where should I eat?")]
    assert message["version"] == 2
    assert message["actor"] == "local"
    assert message["id"]


async def test_a_batch_is_appended_in_order_and_listed_immediately(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    response = await client.post(
        f"/v1/sessions/{sid}/messages",
        json={
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": "Hello!"},
            ]
        },
    )

    assert [m["version"] for m in response.json()["messages"]] == [2, 3, 4]
    listed = (await client.get(f"/v1/sessions/{sid}/messages")).json()
    assert [m["role"] for m in listed["data"]] == ["system", "user", "assistant"]
    assert _texts(listed["data"]) == ["Be brief.", "Hi", "Hello!"]
    assert [m["id"] for m in listed["data"]] == [m["id"] for m in response.json()["messages"]]
    assert listed["next_cursor"] is None


async def test_messages_page_by_cursor_in_either_order(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    await _append(client, sid, *[f"m{i}" for i in range(5)])

    first = (await client.get(f"/v1/sessions/{sid}/messages", params={"limit": 2})).json()
    second = (
        await client.get(
            f"/v1/sessions/{sid}/messages", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    third = (
        await client.get(
            f"/v1/sessions/{sid}/messages", params={"limit": 2, "cursor": second["next_cursor"]}
        )
    ).json()
    newest = (
        await client.get(f"/v1/sessions/{sid}/messages", params={"order": "desc", "limit": 3})
    ).json()

    assert _texts(first["data"] + second["data"] + third["data"]) == ["m0", "m1", "m2", "m3", "m4"]
    assert third["next_cursor"] is None
    assert _texts(newest["data"]) == ["m4", "m3", "m2"]


async def test_messages_page_by_offset(client: httpx.AsyncClient, session: dict[str, Any]) -> None:
    sid = session["id"]
    await _append(client, sid, *[f"m{i}" for i in range(5)])

    page = (
        await client.get(f"/v1/sessions/{sid}/messages", params={"offset": 3, "limit": 10})
    ).json()

    assert _texts(page["data"]) == ["m3", "m4"]


async def test_clearing_the_history_empties_the_list_but_not_the_past(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    await _append(client, sid, "one", "two")

    cleared = await client.delete(f"/v1/sessions/{sid}/messages")

    assert cleared.status_code == 200
    assert cleared.json()["message_count"] == 0
    assert cleared.json()["version"] == 4
    assert cleared.headers["etag"] == '"4"'
    assert (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"] == []
    full = (await client.get(f"/v1/sessions/{sid}", params={"include": "messages"})).json()
    assert full["messages"] == []
    events = (await client.get(f"/v1/sessions/{sid}/events")).json()["data"]
    assert [e["type"] for e in events][-1] == "Session.HistoryCleared"
    assert [e["data"]["message"]["content"][0]["text"] for e in events[1:3]] == ["one", "two"]
    before = (await client.get(f"/v1/sessions/{sid}/state", params={"version": 3})).json()
    assert _texts(before["messages"]) == ["one", "two"]

    await _append(client, sid, "three")
    assert _texts((await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]) == ["three"]


async def test_if_match_with_a_stale_version_is_a_conflict_and_writes_nothing(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    await _append(client, sid, "first")

    stale = await client.post(
        f"/v1/sessions/{sid}/messages",
        json={"role": "user", "content": "late"},
        headers={"If-Match": '"1"'},
    )

    assert stale.status_code == 409
    assert stale.json()["title"] == "Version conflict"
    assert (await client.get(f"/v1/sessions/{sid}")).json()["version"] == 2


async def test_if_match_with_the_current_version_succeeds_in_every_spelling(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    for version, spelling in ((1, "1"), (2, '"2"'), (3, 'W/"3"')):
        response = await client.post(
            f"/v1/sessions/{sid}/messages",
            json={"role": "user", "content": spelling},
            headers={"If-Match": spelling},
        )
        assert response.status_code == 201, spelling
        assert response.json()["session"]["version"] == version + 1


async def test_if_match_guards_every_mutating_route(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    stale = {"If-Match": '"7"'}

    refused = [
        await client.patch(f"/v1/sessions/{sid}", json={"title": "x"}, headers=stale),
        await client.put(f"/v1/sessions/{sid}", json={}, headers=stale),
        await client.delete(f"/v1/sessions/{sid}/messages", headers=stale),
        await client.delete(f"/v1/sessions/{sid}", headers=stale),
    ]

    assert [r.status_code for r in refused] == [409, 409, 409, 409]
    assert (await client.get(f"/v1/sessions/{sid}")).json()["version"] == 1

    patched = await client.patch(
        f"/v1/sessions/{sid}", json={"title": "x"}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200
    cleared = await client.delete(f"/v1/sessions/{sid}/messages", headers={"If-Match": '"2"'})
    assert cleared.status_code == 200
    deleted = await client.delete(f"/v1/sessions/{sid}", headers={"If-Match": '"3"'})
    assert deleted.status_code == 204


async def test_an_if_match_that_is_not_a_version_is_refused_naming_the_header(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    for value in ("abc", '"3', "W/3", "-1", "1.5"):
        response = await client.post(
            f"/v1/sessions/{session['id']}/messages",
            json={"role": "user", "content": "hi"},
            headers={"If-Match": value},
        )
        assert response.status_code == 422, value
        assert response.json()["field"] == "header.If-Match"
        assert "If-Match" in response.json()["detail"]


async def test_an_empty_batch_and_an_empty_message_are_refused(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]

    empty_batch = await client.post(f"/v1/sessions/{sid}/messages", json={"messages": []})
    empty_content = await client.post(
        f"/v1/sessions/{sid}/messages", json={"role": "user", "content": []}
    )

    assert empty_batch.status_code == 422
    assert empty_batch.json()["field"] == "body.messages"
    assert empty_content.status_code == 422
    assert empty_content.json()["field"].endswith("content")
    assert (await client.get(f"/v1/sessions/{sid}")).json()["version"] == 1
