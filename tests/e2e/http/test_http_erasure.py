"""Erasure and redaction over real HTTP (a live server on 127.0.0.1): after `DELETE
?erase=true`, no GET endpoint of the session or its fork answers a planted canary; a
redacted message is gone from every answer while the others stay; only admins may do it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http.app import create_app
from adapters.http.context import Principal
from adapters.ledger import Ledger
from adapters.llm.offline import ScriptedChatModel, ScriptedReply
from adapters.settings import Settings
from domain.sealing import ERASED, REDACTED
from tests.support.live_server import serving

CANARY = "zqxcanary"

SESSION_GETS: dict[str, dict[str, Any]] = {
    "/v1/sessions/{session_id}": {"include": "messages"},
    "/v1/sessions/{session_id}/metadata": {},
    "/v1/sessions/{session_id}/messages": {},
    "/v1/sessions/{session_id}/events": {"limit": 1000},
    "/v1/sessions/{session_id}/state": {},
    "/v1/sessions/{session_id}/diff": {"from": 1},
    "/v1/sessions/{session_id}/export": {"with_sources": "true"},
    "/v1/sessions/{session_id}/suggestions": {},
    "/v1/sessions/{session_id}/completions/{completion_id}/context": {},
}
"""Every GET route on one session, with the query that makes it show the most (routes
under a completion are asked for each of the session's completions)."""


class AsRole:
    """Runs each request as the role named in `X-Test-Role` (the app's auth is off here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            role = dict(scope["headers"]).get(b"x-test-role", b"admin").decode()
            scope.setdefault("state", {})["principal"] = Principal("local", "tester", role)  # type: ignore[arg-type]
        await self.app(scope, receive, send)


@pytest.fixture
def base_url(ledger: Ledger, settings: Settings) -> Iterator[str]:
    ledger.register_model(
        "script",
        ScriptedChatModel([ScriptedReply(text=f"{CANARY}-reply words")], loop=True),
    )
    with serving(AsRole(create_app(ledger, settings))) as url:
        yield url


def plant(http: httpx.Client) -> tuple[str, str, list[str]]:
    """A session with canaries in its fields, messages and a turn, and a fork of it."""
    created = http.post(
        "/v1/sessions",
        json={
            "title": f"{CANARY}-title",
            "situation": f"{CANARY}-situation",
            "context": {"c": "copied to forks"},  # a fork's own copy (docs/erasure.md)
            "metadata": {"m": f"{CANARY}-metadata"},
        },
    ).json()
    sid = created["id"]
    http.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": f"{CANARY}-msg"})
    turn = http.post(
        f"/v1/sessions/{sid}/chat", json={"message": f"{CANARY}-question", "provider": "script"}
    )
    assert turn.status_code == 200, turn.text
    http.patch(f"/v1/sessions/{sid}", json={"title": f"{CANARY}-title2"})
    fork = http.post(
        f"/v1/sessions/{sid}/fork",
        json={"title": "fork", "metadata": {}, "situation": "own"},
    ).json()
    ids = [m["id"] for m in http.get(f"/v1/sessions/{sid}/messages").json()["data"]]
    return sid, fork["id"], ids


def every_answer(http: httpx.Client, sid: str) -> str:
    """The bodies of every GET about the session: each route, and the state at each version."""
    bodies = []
    head = http.get(f"/v1/sessions/{sid}/state").json()["version"]
    events = http.get(f"/v1/sessions/{sid}/events", params={"limit": 1000}).json()["data"]
    completions = [e["data"]["completion_id"] for e in events if "completion_id" in e["data"]]
    for path, params in SESSION_GETS.items():
        query = params | ({"to": head} if path.endswith("/diff") else {})
        for completion_id in completions if "{completion_id}" in path else [""]:
            url = path.format(session_id=sid, completion_id=completion_id)
            answer = http.get(url, params=query)
            assert answer.status_code == 200 or "{completion_id}" not in path, answer.text
            bodies.append(answer.text)
    for version in range(1, head + 1):
        bodies.append(http.get(f"/v1/sessions/{sid}/state", params={"version": version}).text)
    bodies.append(http.get("/v1/sessions", params={"include_deleted": "true"}).text)
    return "\n".join(bodies)


def test_the_table_of_session_reads_covers_every_get_route(
    ledger: Ledger, settings: Settings
) -> None:
    paths = create_app(ledger, settings).openapi()["paths"]
    routes = {path for path, ops in paths.items() if "get" in ops and "{session_id}" in path}
    assert routes == set(SESSION_GETS)


def test_after_erasure_no_read_endpoint_answers_a_canary(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        sid, fork_id, _ = plant(http)
        assert CANARY in every_answer(http, sid)  # the search finds what is there

        erased = http.delete(f"/v1/sessions/{sid}", params={"erase": "true", "reason": "gdpr"})

        assert erased.status_code == 204
        answers = every_answer(http, sid) + every_answer(http, fork_id)
        assert CANARY not in answers and ERASED in answers
        assert http.get(f"/v1/sessions/{sid}").status_code == 410
        past = http.get(f"/v1/sessions/{sid}/state", params={"version": 2}).json()
        assert past["title"] == ERASED
        assert [m["content"][0]["text"] for m in past["messages"]] == [ERASED]
        fork = http.get(f"/v1/sessions/{fork_id}", params={"include": "messages"}).json()
        assert fork["title"] == "fork"


def test_a_redacted_message_is_in_no_answer_while_the_others_stay(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        sid, fork_id, ids = plant(http)
        reply_id = ids[-1]

        redacted = http.post(
            f"/v1/sessions/{sid}/messages/{reply_id}/redact", json={"reason": "moderation"}
        )

        assert redacted.status_code == 200, redacted.text
        answers = every_answer(http, sid) + every_answer(http, fork_id)
        assert "-reply words" not in answers and REDACTED in answers
        texts = [
            m["content"][0]["text"] for m in http.get(f"/v1/sessions/{sid}/messages").json()["data"]
        ]
        assert texts == [f"{CANARY}-msg", f"{CANARY}-question", REDACTED]


def test_only_admins_erase_or_redact(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        sid, _, ids = plant(http)
        for role in ("member", "auditor"):
            headers = {"X-Test-Role": role}
            erase = http.delete(f"/v1/sessions/{sid}", params={"erase": "true"}, headers=headers)
            redact = http.post(f"/v1/sessions/{sid}/messages/{ids[0]}/redact", headers=headers)
            assert (erase.status_code, redact.status_code) == (403, 403)
            assert erase.headers["content-type"] == "application/problem+json"
        assert http.get(f"/v1/sessions/{sid}/messages").json()["data"][0]["content"][0]["text"] == (
            f"{CANARY}-msg"
        )


def test_bad_erasure_input_is_a_problem_not_a_crash(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        sid, _, _ = plant(http)

        prose = http.delete(f"/v1/sessions/{sid}", params={"erase": "true", "reason": "Alice!"})
        unknown = http.post(f"/v1/sessions/{sid}/messages/nope/redact")
        foreign = http.delete(
            "/v1/sessions/00000000-0000-0000-0000-000000000000", params={"erase": "true"}
        )

        assert (prose.status_code, unknown.status_code, foreign.status_code) == (422, 404, 404)
