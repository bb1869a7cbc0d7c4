"""The past over HTTP: a session's event stream, and its state at a version or a time."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for m in messages for block in m["content"]]


@pytest.fixture
async def edited_session(client: httpx.AsyncClient) -> str:
    """A session with five events: created, two messages, a title change, a third message."""
    sid: str = (await client.post("/v1/sessions", json={"title": "v1"})).json()["id"]
    for step in (
        client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "one"}),
        client.post(f"/v1/sessions/{sid}/messages", json={"role": "assistant", "content": "two"}),
        client.patch(f"/v1/sessions/{sid}", json={"title": "v4"}),
        client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "three"}),
    ):
        assert (await step).status_code in (200, 201)
    return sid


async def test_the_event_stream_lists_every_event_with_its_envelope(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    page = (await client.get(f"/v1/sessions/{edited_session}/events")).json()

    assert [e["type"] for e in page["data"]] == [
        "Session.Created",
        "Session.MessageAppended",
        "Session.MessageAppended",
        "Session.TitleChanged",
        "Session.MessageAppended",
    ]
    assert [e["version"] for e in page["data"]] == [1, 2, 3, 4, 5]
    first = page["data"][0]
    assert first["session_id"] == edited_session
    assert first["topic"] == "chatledger.Session.Created"
    assert first["tenant_id"] == "local"
    assert first["data"]["title"] == "v1"
    assert page["next_cursor"] is None


async def test_events_page_by_cursor_without_duplicates_or_gaps(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    versions: list[int] = []
    cursor: str | None = None
    for _ in range(3):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/v1/sessions/{edited_session}/events", params=params)).json()
        versions += [e["version"] for e in page["data"]]
        cursor = page["next_cursor"]

    assert versions == [1, 2, 3, 4, 5]
    assert cursor is None


async def test_the_state_at_a_version_is_the_session_and_history_as_they_were(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    url = f"/v1/sessions/{edited_session}/state"

    at_three = (await client.get(url, params={"version": 3})).json()
    at_four = (await client.get(url, params={"version": 4})).json()
    now = (await client.get(url)).json()

    assert at_three["as_of_version"] == 3
    assert at_three["title"] == "v1"
    assert _texts(at_three["messages"]) == ["one", "two"]
    assert at_three["message_count"] == 2
    assert at_four["title"] == "v4"
    assert now["as_of_version"] == 5
    assert _texts(now["messages"]) == ["one", "two", "three"]


async def test_the_state_at_a_time_is_the_last_version_recorded_by_then(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    events = (await client.get(f"/v1/sessions/{edited_session}/events")).json()["data"]
    url = f"/v1/sessions/{edited_session}/state"

    at_third = (await client.get(url, params={"at": events[2]["timestamp"]})).json()
    later = datetime.fromisoformat(events[-1]["timestamp"]) + timedelta(days=1)
    at_later = (await client.get(url, params={"at": later.isoformat()})).json()

    assert at_third["as_of_version"] == 3
    assert _texts(at_third["messages"]) == ["one", "two"]
    assert at_later["as_of_version"] == 5


async def test_time_travel_outside_the_stream_or_with_both_selectors_is_refused(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    url = f"/v1/sessions/{edited_session}/state"
    created = (await client.get(f"/v1/sessions/{edited_session}/events")).json()["data"][0]
    before = datetime.fromisoformat(created["timestamp"]) - timedelta(seconds=1)

    cases: dict[str, dict[str, Any]] = {
        "version": {"version": 6},
        "query.version": {"version": 0},
        "at": {"at": before.isoformat()},
        "query.at": {"version": 2, "at": created["timestamp"]},
    }
    for field, params in cases.items():
        response = await client.get(url, params=params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field

    naive = await client.get(url, params={"at": "2024-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "query.at"


async def test_a_deleted_sessions_events_and_past_states_stay_readable(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    await client.delete(f"/v1/sessions/{edited_session}")

    events = (await client.get(f"/v1/sessions/{edited_session}/events")).json()["data"]
    past = await client.get(f"/v1/sessions/{edited_session}/state", params={"version": 5})
    last = await client.get(f"/v1/sessions/{edited_session}/state")

    assert events[-1]["type"] == "Session.Deleted"
    assert past.status_code == 200
    assert past.json()["status"] == "active"
    assert last.json()["status"] == "deleted"


def _forged(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


async def test_cursors_the_server_did_not_issue_are_refused(
    client: httpx.AsyncClient, edited_session: str
) -> None:
    forged = [
        "%%%",
        _forged({"version": "two"}),
        _forged({"version": [2]}),
        _forged({"version": 2**70}),
        _forged({"updated_at": "2024-01-01T00:00:00+00:00", "id": {"x": 1}}),
        _forged({"updated_at": "2024-01-01T00:00:00+00:00", "id": "a\x00b"}),
    ]
    for cursor in forged:
        for url in (
            f"/v1/sessions/{edited_session}/events",
            f"/v1/sessions/{edited_session}/messages",
            "/v1/sessions",
        ):
            response = await client.get(url, params={"cursor": cursor})
            assert response.status_code == 422, (url, cursor)
            assert response.json()["field"] == "query.cursor"
