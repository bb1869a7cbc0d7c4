"""Export and import over HTTP: NDJSON bundles that move between databases byte for byte,
import idempotently, and are refused whole when tampered with."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext

pytestmark = pytest.mark.anyio

NDJSON = {"Content-Type": "application/x-ndjson"}


async def _conversation(client: httpx.AsyncClient) -> str:
    """A session with messages, an edit, and a fork of it with its own message; the fork."""
    created = await client.post("/v1/sessions", json={"title": "Trip", "metadata": {"k": 1}})
    sid = created.json()["id"]
    for step in (
        client.post(f"/v1/sessions/{sid}/messages", json={"role": "user", "content": "héllo"}),
        client.post(f"/v1/sessions/{sid}/messages", json={"role": "assistant", "content": "hi"}),
        client.patch(f"/v1/sessions/{sid}", json={"title": "Trip to Oslo"}),
    ):
        assert (await step).status_code in (200, 201)
    fork = (await client.post(f"/v1/sessions/{sid}/fork", json={"at_version": 3})).json()["id"]
    appended = await client.post(
        f"/v1/sessions/{fork}/messages", json={"role": "user", "content": "forked"}
    )
    assert appended.status_code == 201
    return str(fork)


async def _export(client: httpx.AsyncClient, sid: str, **params: Any) -> bytes:
    response = await client.get(f"/v1/sessions/{sid}/export", params=params)
    assert response.status_code == 200, response.text
    return response.content


async def _history(client: httpx.AsyncClient, sid: str) -> list[tuple[str, str]]:
    data = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    return [(m["role"], m["content"][0]["text"]) for m in data]


async def _session_ids(client: httpx.AsyncClient) -> set[str]:
    listed = await client.get("/v1/sessions", params={"include_deleted": True, "limit": 200})
    return {s["id"] for s in listed.json()["data"]}


@asynccontextmanager
async def _serving(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second, independent app on its own database."""
    settings = Settings(database_url=database_url)
    ledger = open_ledger(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(ledger, settings)),
            base_url="http://test",
        ) as client:
            yield client
    finally:
        ledger.close()


async def test_an_export_streams_the_session_as_an_ndjson_attachment(
    client: httpx.AsyncClient,
) -> None:
    fork = await _conversation(client)

    response = await client.get(f"/v1/sessions/{fork}/export")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == f'attachment; filename="{fork}.ndjson"'
    lines = [json.loads(line) for line in response.content.splitlines()]
    header, *events, footer = lines
    assert (header["format"], header["session_id"], header["sessions"]) == (
        "chatledger.bundle",
        fork,
        [fork],
    )
    assert [(e["session_id"], e["version"]) for e in events] == [(fork, 1), (fork, 2)]
    assert events[0]["topic"] == "chatledger.Session.Forked"
    assert footer["events"] == 2
    with_sources = await _export(client, fork, with_sources="true")
    assert json.loads(with_sources.splitlines()[0])["sessions"][-1] == fork
    assert len(with_sources.splitlines()) == 2 + 4 + 2  # the source's four events first


@pytest.mark.postgres
async def test_a_bundle_moves_from_sqlite_to_postgres_and_exports_again_byte_identical(
    sqlite_url: str, postgres_url: str
) -> None:
    async with _serving(sqlite_url) as source, _serving(postgres_url) as target:
        fork = await _conversation(source)
        bundle = await _export(source, fork, with_sources="true")

        imported = await target.post("/v1/sessions/import", content=bundle, headers=NDJSON)

        assert imported.status_code == 201, imported.text
        assert imported.json() == {"session_id": fork, "imported": 6, "skipped": 0}
        assert imported.headers["location"] == f"/v1/sessions/{fork}"
        assert await _export(target, fork, with_sources="true") == bundle
        assert await _history(target, fork) == await _history(source, fork)
        state = (await target.get(f"/v1/sessions/{fork}", params={"include": "messages"})).json()
        assert state["messages"][0]["origin"]["version"] == 2


async def test_importing_a_bundle_again_skips_every_event(client: httpx.AsyncClient) -> None:
    fork = await _conversation(client)
    bundle = await _export(client, fork)
    new_id = str(uuid.uuid4())

    same = await client.post("/v1/sessions/import", content=bundle, headers=NDJSON)
    first = await client.post("/v1/sessions/import", params={"new_id": new_id}, content=bundle)
    again = await client.post(
        "/v1/sessions/import",
        params={"new_id": new_id},
        content=bundle,
        headers={"Content-Type": "application/octet-stream"},
    )

    assert same.json() == {"session_id": fork, "imported": 0, "skipped": 2}
    assert first.status_code == 201
    assert first.json() == {"session_id": new_id, "imported": 2, "skipped": 0}
    assert again.status_code == 201
    assert again.json() == {"session_id": new_id, "imported": 0, "skipped": 2}


async def test_an_import_under_a_new_id_is_a_second_session_with_the_same_history(
    client: httpx.AsyncClient,
) -> None:
    fork = await _conversation(client)
    new_id = str(uuid.uuid4())

    response = await client.post(
        "/v1/sessions/import",
        params={"new_id": new_id},
        content=await _export(client, fork),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/sessions/{new_id}"
    session = (await client.get(f"/v1/sessions/{new_id}")).json()
    assert (session["id"], session["title"], session["version"]) == (new_id, "Trip", 2)
    assert await _history(client, new_id) == await _history(client, fork)
    assert await _history(client, new_id) == [
        ("user", "héllo"),
        ("assistant", "hi"),
        ("user", "forked"),
    ]


async def test_a_tampered_bundle_is_refused_naming_its_first_bad_line_and_nothing_is_written(
    client: httpx.AsyncClient,
) -> None:
    fork = await _conversation(client)
    lines = (await _export(client, fork)).splitlines(keepends=True)
    lines[2] = lines[2].replace(b"forked", b"FORKED")
    before = await _session_ids(client)
    new_id = str(uuid.uuid4())

    response = await client.post(
        "/v1/sessions/import", params={"new_id": new_id}, content=b"".join(lines), headers=NDJSON
    )
    truncated = await client.post(
        "/v1/sessions/import",
        params={"new_id": new_id},
        content=b"".join(lines[:1]),
        headers=NDJSON,
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "bundle"
    assert problem["detail"].startswith("bundle: line 3: checksum mismatch")
    assert truncated.status_code == 422 and truncated.json()["detail"].startswith("bundle: line 2:")
    assert (await client.get(f"/v1/sessions/{new_id}")).status_code == 404
    assert await _session_ids(client) == before


async def test_an_import_that_is_not_a_bundle_is_refused(client: httpx.AsyncClient) -> None:
    empty = await client.post("/v1/sessions/import", content=b"", headers=NDJSON)
    as_json = await client.post("/v1/sessions/import", json={"not": "a bundle"})
    as_form = await client.post("/v1/sessions/import", data={"a": "b"})
    bad_id = await client.post(
        "/v1/sessions/import", params={"new_id": "nope"}, content=b"{}\n", headers=NDJSON
    )

    assert empty.status_code == 422 and empty.json()["field"] == "bundle"
    assert as_json.status_code == 415 and as_form.status_code == 415
    assert as_json.json()["field"] == "body"
    assert "application/x-ndjson" in as_json.json()["detail"]
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "query.new_id"


async def test_an_import_over_the_body_limit_is_refused(
    client: httpx.AsyncClient, ledger: Ledger, settings: Settings
) -> None:
    bundle = await _export(client, await _conversation(client))
    small = settings.model_copy(update={"max_body_bytes": len(bundle) - 1})
    app = create_app(ledger, small)
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://test") as limited:
        declared = await limited.post("/v1/sessions/import", content=bundle, headers=NDJSON)

        async def chunks() -> AsyncIterator[bytes]:
            yield bundle

        streamed = await limited.post("/v1/sessions/import", content=chunks(), headers=NDJSON)

    assert declared.status_code == 413 and streamed.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"


async def test_another_tenants_session_cannot_be_exported(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    theirs = ledger.create_session(CommandContext(tenant_id="other", actor="x")).id

    response = await client.get(f"/v1/sessions/{theirs}/export")
    malformed = await client.get("/v1/sessions/not-a-uuid/export")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 404
