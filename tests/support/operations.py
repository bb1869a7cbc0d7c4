"""Every operation of the HTTP API, as a table: who may call it and how (a support module).

`MATRIX` maps `"METHOD /path"` (as the OpenAPI document names it) to a `Row`: the
roles allowed and a minimal valid call. Strings in a row may name tenant A's
objects, `{session_id}`, `{other_id}`, `{agent_id}`, `{key_id}`, `{message_id}`,
`{idempotency_key}`, `{marker}`, `{bundle}`, which `make_objects` creates and
`build` fills in. A key may add a query (`DELETE /v1/sessions/{session_id}?erase=true`)
for a flag that needs other rights than the operation without it. The authorization
matrix and the mass-assignment tests run over it; adding an operation to the API means
adding its row here (one line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.message import Message

READ = frozenset({"member", "auditor", "admin"})
WRITE = frozenset({"member", "admin"})
ADMIN = frozenset({"admin"})
AUDIT = frozenset({"auditor", "admin"})
OK = frozenset({200, 201, 204})


@dataclass(frozen=True)
class Row:
    """How to call one operation, and who may. Strings may name ids: `{session_id}`."""

    roles: frozenset[str]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: str | None = None
    """A body sent as NDJSON (`{bundle}`: an export of A's session)."""
    ok: frozenset[int] = OK
    foreign: frozenset[int] | None = None
    """What B gets naming A's ids with a role that may call it (default: 404 when the
    call names an id, else `ok`)."""


MATRIX: dict[str, Row] = {
    # An agent id is a reference, resolved in the caller's tenant when the session chats.
    "POST /v1/sessions": Row(WRITE, json={"title": "made", "agent_id": "{agent_id}"}, foreign=OK),
    "GET /v1/sessions": Row(READ, params={"metadata_filter": '{"team": "{marker}"}'}),
    "GET /v1/sessions/{session_id}": Row(READ, params={"include": "messages"}),
    "PATCH /v1/sessions/{session_id}": Row(WRITE, json={"title": "patched"}),
    "PUT /v1/sessions/{session_id}": Row(WRITE, json={"title": "put"}),
    "DELETE /v1/sessions/{session_id}": Row(WRITE),
    "DELETE /v1/sessions/{session_id}?erase=true": Row(ADMIN),
    "POST /v1/sessions/{session_id}/messages/{message_id}/redact": Row(
        ADMIN, json={"reason": "moderation"}
    ),
    "POST /v1/verify": Row(AUDIT),
    "GET /v1/digest": Row(AUDIT),
    "GET /v1/digest/public-key": Row(AUDIT),
    "GET /v1/sessions/{session_id}/metadata": Row(READ),
    "GET /v1/sessions/{session_id}/messages": Row(READ),
    "POST /v1/sessions/{session_id}/messages": Row(WRITE, json={"role": "user", "content": "more"}),
    "DELETE /v1/sessions/{session_id}/messages": Row(WRITE),
    "POST /v1/sessions/{session_id}/chat": Row(
        WRITE, json={"message": "hi"}, headers={"Idempotency-Key": "{idempotency_key}"}
    ),
    "GET /v1/sessions/{session_id}/suggestions": Row(READ, ok=frozenset({200, 404})),
    "POST /v1/sessions/{session_id}/summarize": Row(WRITE, json={"text": "in short"}),
    "GET /v1/sessions/{session_id}/events": Row(READ),
    "GET /v1/sessions/{session_id}/state": Row(READ, params={"version": 1}),
    "GET /v1/sessions/{session_id}/completions/{completion_id}/context": Row(READ),
    "GET /v1/sessions/{session_id}/diff": Row(READ, params={"from": 1, "to": 2}),
    "POST /v1/sessions/{session_id}/fork": Row(WRITE, json={"at_version": 1}),
    "POST /v1/sessions/{session_id}/copy": Row(WRITE, json={}),
    "POST /v1/sessions/merge": Row(WRITE, json={"session_ids": ["{session_id}", "{other_id}"]}),
    "GET /v1/sessions/{session_id}/export": Row(READ),
    "POST /v1/sessions/import": Row(WRITE, content="{bundle}", params={"new_id": "{session_id}"}),
    "POST /v1/sessions/{session_id}/replay": Row(WRITE, json={"mode": "deterministic"}),
    "POST /v1/replays": Row(WRITE, json={"metadata_filter": {"team": "{marker}"}}),
    "POST /v1/agents": Row(WRITE, json={"name": "made"}),
    "GET /v1/agents": Row(READ),
    "GET /v1/agents/{agent_id}": Row(READ),
    "PATCH /v1/agents/{agent_id}": Row(WRITE, json={"name": "patched"}),
    "PUT /v1/agents/{agent_id}": Row(WRITE, json={"name": "put"}),
    "DELETE /v1/agents/{agent_id}": Row(WRITE),
    "POST /v1/keys": Row(ADMIN, json={"role": "member", "name": "made"}),
    "GET /v1/keys": Row(ADMIN),
    "GET /v1/keys/{key_id}": Row(ADMIN),
    "DELETE /v1/keys/{key_id}": Row(ADMIN),
    "GET /v1/audit": Row(AUDIT, params={"session_id": "{session_id}"}, foreign=OK),
}

MARKER = "tenant-a-private"
"""Text in every one of tenant A's objects: a body that shows it leaks A's data."""


def make_objects(ledger: Ledger, tenant: str = "A", marker: str = MARKER) -> dict[str, str]:
    """Fresh objects of `tenant` (A by default), by the names the matrix's templates use;
    `marker` is in every one of them."""
    ctx = CommandContext(tenant_id=tenant, actor="setup")
    session = ledger.create_session(ctx, title=marker, metadata={"team": marker})
    ledger.append_messages(
        ctx, session.id, [Message.user(f"{marker} question"), Message.assistant("answer")]
    )
    question = ledger.get_state(tenant, session.id).messages[0].message
    turn = ledger.chat(ctx, session.id, f"{marker} asked of the offline model")
    other = ledger.create_session(ctx, title=f"{marker} other")
    agent_state = ledger.create_agent(ctx, AgentFields(name=marker))
    key = ledger.create_api_key(ctx, role="member", name=marker)
    bundle = b"".join(ledger.export_session(tenant, session.id)).decode()
    return {
        "session_id": str(session.id),
        "other_id": str(other.id),
        "message_id": str(question.id),
        "completion_id": turn.completion_id,
        "agent_id": str(agent_state.id),
        "key_id": key.key.id,
        "idempotency_key": f"{marker}-turn",
        "marker": marker,
        "bundle": bundle,
    }


def fill(value: Any, ids: dict[str, str]) -> Any:
    """`value` with `{name}` replaced by A's ids, in strings, lists and objects."""
    if isinstance(value, str):
        for name, replacement in ids.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def operation_of(key: str) -> tuple[str, str]:
    """The method and OpenAPI path a `MATRIX` key names (without its query)."""
    method, target = key.split(" ", 1)
    return method, target.partition("?")[0]


def build(operation: str, row: Row, ids: dict[str, str], key: str | None) -> httpx.Request:
    method, path = operation_of(operation)
    query = dict(parse_qsl(operation.partition("?")[2]))
    headers = fill(dict(row.headers), ids)
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    kwargs: dict[str, Any] = {"params": query | fill(row.params, ids), "headers": headers}
    if row.content is not None:
        kwargs["content"] = fill(row.content, ids).encode()
        headers["Content-Type"] = "application/x-ndjson"
    elif row.json is not None:
        kwargs["json"] = fill(row.json, ids)
    return httpx.Request(method, f"http://test{fill(path, ids)}", **kwargs)


ID_NAMES = ("session_id", "other_id", "message_id", "completion_id", "agent_id", "key_id")
"""The templates that name an object (a bundle is content the caller sends, not a name)."""


def named_ids(operation: str, row: Row) -> list[str]:
    """The object ids the call names (in its path, query, headers or body)."""
    text = json.dumps([operation, row.params, row.headers, row.json, row.content])
    return [name for name in ID_NAMES if f"{{{name}}}" in text]


def takes_ids(operation: str, row: Row) -> bool:
    """Whether the call names one of A's objects (in its path, query, headers or body)."""
    return bool(named_ids(operation, row)) or "{bundle}" in (row.content or "")


@dataclass
class World:
    """The app, its ledger, and a key per (tenant, role)."""

    app: FastAPI
    ledger: Ledger
    keys: dict[tuple[str, str], str]
    shared: dict[str, str]
    """Tenant A's objects that tenant B's calls name (B never changes them)."""
    own: dict[str, str]
    """Tenant B's own objects, mixed with one of A's in calls that name several."""


@contextmanager
def opened_world(directory: Path) -> Iterator[World]:
    """An app requiring keys over a SQLite file in `directory`, with a key per tenant (A, B)
    and role, named `<tenant>-<role>`; failed authentications are never held back."""
    settings = Settings(
        database_url=f"sqlite:///{directory / 'chatledger.db'}",
        auth="required",
        auth_max_failures=1_000_000,
    )
    ledger = open_ledger(settings)
    keys = {
        (tenant, role): ledger.create_api_key(
            CommandContext(tenant_id=tenant, actor="operator"), role=role, name=f"{tenant}-{role}"
        ).token
        for tenant in ("A", "B")
        for role in sorted(READ)
    }
    try:
        yield World(
            create_app(ledger, settings),
            ledger,
            keys,
            make_objects(ledger),
            make_objects(ledger, "B", "tenant-b-own"),
        )
    finally:
        ledger.close()
