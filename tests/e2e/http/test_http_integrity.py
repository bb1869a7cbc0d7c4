"""`POST /v1/verify` and `GET /v1/digest`: the caller's tenant only, admin or auditor; a
tampered event is named; a digest catches truncation; bad digests are 422s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.bootstrap import open_ledger
from adapters.http.app import create_app
from adapters.http.context import Principal, Role
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.message import Message
from tests.support.tampering import Tamper

pytestmark = pytest.mark.anyio

OTHER = CommandContext(tenant_id="other", actor="eve")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secrets_dir=str(tmp_path / "secrets"))


@pytest.fixture
def tamper(database_url: str) -> Iterator[Tamper]:
    tamper = Tamper(database_url)
    yield tamper
    tamper.close()


def as_role(app: ASGIApp, role: Role) -> ASGIApp:
    """The app, with every request made by a `role` of the local tenant."""

    async def with_principal(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["principal"] = Principal("local", "someone", role)
        await app(scope, receive, send)

    return with_principal


@pytest.fixture
def client_as(ledger: Ledger, settings: Settings) -> Callable[[Role], httpx.AsyncClient]:
    def make(role: Role) -> httpx.AsyncClient:
        app = as_role(create_app(ledger, settings), role)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


async def append(client: httpx.AsyncClient, sid: str, text: str) -> None:
    response = await client.post(
        f"/v1/sessions/{sid}/messages", json={"role": "user", "content": text}
    )
    assert response.status_code == 201, response.text


async def test_verify_covers_the_callers_tenant_and_names_a_tampered_event(
    client: httpx.AsyncClient, ledger: Ledger, session: dict[str, Any], tamper: Tamper
) -> None:
    sid = session["id"]
    await append(client, sid, "hello")
    theirs = ledger.create_session(OTHER, title="not yours")
    ledger.append_messages(OTHER, theirs.id, [Message.user("secret")])

    intact = await client.post("/v1/verify")
    tamper.set_value(tamper.events, "state", str(theirs.id), 2, b"{}")
    other_tenant_tampered = await client.post("/v1/verify")
    tamper.set_value(tamper.events, "topic", sid, 2, "chatledger.Session.Deleted")
    tampered = await client.post("/v1/verify")

    assert intact.status_code == 200
    assert intact.json() | {"seconds": 0, "events_per_second": 0} == {
        "intact": True,
        "verdict": "intact: tenant local, 1 streams, 2 events",
        "tenant_id": "local",
        "streams": 1,
        "events": 2,
        "seconds": 0,
        "events_per_second": 0,
        "digest_streams": None,
        "failed_streams": 0,
        "failures": [],
    }
    assert other_tenant_tampered.json()["intact"] is True  # not this tenant's to see
    body = tampered.json()
    assert body["intact"] is False and body["failed_streams"] == 1
    assert body["failures"] == [
        {
            "tenant_id": "local",
            "stream_id": sid,
            "version": 2,
            "reason": "the stored hash does not match the event",
        }
    ]
    assert body["verdict"].startswith(f"tampered: tenant local, stream {sid}, version 2")


async def test_a_digest_round_trips_and_catches_a_truncated_stream(
    client: httpx.AsyncClient, session: dict[str, Any], tamper: Tamper
) -> None:
    sid = session["id"]
    await append(client, sid, "one")
    await append(client, sid, "two")

    digest = (await client.get("/v1/digest")).json()
    await append(client, sid, "later")
    later = await client.post("/v1/verify", json=digest)
    tamper.delete(tamper.events, sid, [3, 4])
    tamper.delete(tamper.hashes, sid, [3, 4])
    truncated = await client.post("/v1/verify", json=digest)
    refused = await client.get("/v1/digest")

    assert digest["tenant_id"] == "local" and digest["streams"][0]["count"] == 3
    assert later.json()["intact"] is True and later.json()["digest_streams"] == 1
    assert truncated.json()["intact"] is False
    assert truncated.json()["failures"][0]["reason"] == "truncated: 2 events, the digest has 3"
    assert refused.status_code == 200  # what is left still verifies: a chain cannot tell


async def test_a_tampered_log_gets_no_digest(
    client: httpx.AsyncClient, session: dict[str, Any], tamper: Tamper
) -> None:
    tamper.set_value(tamper.hashes, "hash", session["id"], 1, bytes(32))

    response = await client.get("/v1/digest")

    assert response.status_code == 409
    assert f"stream {session['id']}, version 1" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{", "application/json", 422, "digest"),
        (b'{"format": "x"}', "application/json", 422, "digest"),
        (b"[]", "application/json", 422, "digest"),
        (b"digest", "text/plain", 415, "application/json"),
    ],
    ids=["truncated", "malformed", "array", "media-type"],
)
async def test_bad_digests_are_problems(
    client: httpx.AsyncClient, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = await client.post("/v1/verify", content=body, headers={"content-type": content_type})

    assert response.status_code == status
    assert fragment in response.json()["detail"]


async def test_a_digest_for_another_tenant_or_altered_is_refused(
    client: httpx.AsyncClient, ledger: Ledger, session: dict[str, Any]
) -> None:
    ledger.create_session(OTHER, title="theirs")
    theirs = ledger.digest(tenant_id="other")
    ours = (await client.get("/v1/digest")).json()
    ours["streams"][0]["count"] += 1

    foreign = await client.post("/v1/verify", json=theirs)
    altered = await client.post("/v1/verify", json=ours)

    assert foreign.status_code == 422 and foreign.json()["field"] == "digest"
    assert "tenant other" in foreign.json()["detail"]
    assert altered.status_code == 422 and "signature" in altered.json()["detail"]


async def test_auditors_and_admins_may_verify_and_members_may_not(
    client_as: Callable[[Role], httpx.AsyncClient], ledger: Ledger
) -> None:
    ledger.create_session(CommandContext(tenant_id="local", actor="a"), title="t")
    statuses = {}
    for role in ("admin", "auditor", "member"):
        async with client_as(role) as client:
            verify = await client.post("/v1/verify")
            digest = await client.get("/v1/digest")
            key = await client.get("/v1/digest/public-key")
            statuses[role] = (verify.status_code, digest.status_code, key.status_code)
            if role == "auditor":
                assert key.text.startswith("-----BEGIN PUBLIC KEY-----")
                checked = await client.post("/v1/verify", json=digest.json())
                assert checked.json()["digest_streams"] == 1

    assert statuses == {"admin": (200, 200, 200), "auditor": (200, 200, 200), "member": (403,) * 3}


async def test_the_signing_key_is_shared_by_servers_on_one_secrets_dir(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    digest = (await client.get("/v1/digest")).json()
    second = open_ledger(settings)
    try:
        app = create_app(second, settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
            checked = await other.post("/v1/verify", json=digest)
    finally:
        second.close()

    assert checked.status_code == 200 and checked.json()["intact"] is True


async def test_an_unusable_signing_key_is_a_503_not_a_crash(
    client_as: Callable[[Role], httpx.AsyncClient], settings: Settings
) -> None:
    key_file = Path(settings.secrets_dir) / "signing.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("not a key\n")
    async with client_as("admin") as client:
        response = await client.get("/v1/digest")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "not a key" not in response.text and str(key_file) not in response.text
