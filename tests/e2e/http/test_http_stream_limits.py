"""The per-tenant cap on concurrent SSE chat streams, over a real uvicorn server: 429 with
`Retry-After` over the cap, and the slot given back when a stream ends, fails or is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http.app import create_app
from adapters.http.context import Principal
from adapters.http.streams import StreamSlots
from adapters.ledger import Ledger
from adapters.settings import Settings
from tests.support.fake_provider import FakeProvider, Reply
from tests.support.live_server import serving

pytestmark = pytest.mark.anyio

TENANT_HEADER = "X-Test-Tenant"


def with_tenant_header(app: ASGIApp) -> ASGIApp:
    """`app` with each request's principal a member of the tenant its test header names."""

    async def authenticated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            tenant = headers.get(TENANT_HEADER.lower().encode(), b"local").decode()
            principal = Principal(tenant_id=tenant, actor=f"{tenant}-user", role="member")
            scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return authenticated


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings]) -> Settings:
    return make_fake_settings(default_provider="openai", max_streams_per_tenant=1)


@pytest.fixture
def slots(ledger: Ledger, settings: Settings) -> Iterator[tuple[str, StreamSlots]]:
    """The server's base URL and its stream slots."""
    app = create_app(ledger, settings)
    app.router.add_event_handler("shutdown", ledger.chat_service.models.aclose)
    with serving(with_tenant_header(app)) as url:
        yield url, app.state.stream_slots


@pytest.fixture
async def http(slots: tuple[str, StreamSlots]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=slots[0], timeout=30) as client:
        yield client


async def _session(http: httpx.AsyncClient, tenant: str = "local") -> str:
    response = await http.post("/v1/sessions", json={}, headers={TENANT_HEADER: tenant})
    return str(response.json()["id"])


def _streamed(text: str) -> dict[str, object]:
    return {"message": text, "stream": True}


def _chat_url(sid: str) -> str:
    return f"/v1/sessions/{sid}/chat"


async def _first_frame(chunks: AsyncIterator[str]) -> str:
    """Text up to the end of the first frame. The caller keeps `chunks` (the response's
    iterator) alive: dropping it would close the response, and so the stream."""
    text = ""
    while "\n\n" not in text:
        text += await anext(chunks)
    return text


async def test_a_stream_over_the_tenants_cap_is_429_with_retry_after_while_others_stream(
    http: httpx.AsyncClient, fake_provider: FakeProvider, slots: tuple[str, StreamSlots]
) -> None:
    sid = await _session(http)
    theirs = await _session(http, "other")
    fake_provider.script(Reply(text="slow answer", chunks=2, stall_after=1, stall_s=30.0))
    fake_provider.script(Reply(text="not streamed"), Reply(text="their answer"))

    async with http.stream("POST", _chat_url(sid), json=_streamed("first")) as first:
        assert first.status_code == 200
        chunks = first.aiter_text()
        assert "execution" in await _first_frame(chunks)
        assert slots[1].open_streams("local") == 1

        refused = await http.post(_chat_url(sid), json=_streamed("second"))
        as_json = await http.post(f"/v1/sessions/{sid}/chat", json={"message": "not streamed"})
        other = await http.post(
            _chat_url(theirs), json=_streamed("theirs"), headers={TENANT_HEADER: "other"}
        )

        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert "the limit is 1" in refused.json()["detail"]
        assert as_json.status_code == 200  # only streams count
        assert other.status_code == 200 and "event: done" in other.text

    assert fake_provider.calls == 3  # the refused stream never reached the provider


async def test_the_slot_is_free_again_once_a_stream_ends(
    http: httpx.AsyncClient, fake_provider: FakeProvider, slots: tuple[str, StreamSlots]
) -> None:
    sid = await _session(http)
    fake_provider.script(Reply(text="one"), Reply(text="two"))

    first = await http.post(_chat_url(sid), json=_streamed("first"))
    second = await http.post(_chat_url(sid), json=_streamed("second"))

    assert "event: done" in first.text and "event: done" in second.text
    assert slots[1].open_streams("local") == 0


async def test_the_slot_is_free_again_once_a_stream_fails(
    http: httpx.AsyncClient, fake_provider: FakeProvider, slots: tuple[str, StreamSlots]
) -> None:
    sid = await _session(http)
    fake_provider.script(Reply(text="cut short here", chunks=3, drop_after=1), Reply(text="ok"))

    failed = await http.post(_chat_url(sid), json=_streamed("first"))
    after = await http.post(_chat_url(sid), json=_streamed("again"))

    assert "event: error" in failed.text
    assert after.status_code == 200 and "event: done" in after.text


async def test_the_slot_is_free_again_once_the_client_goes_away(
    http: httpx.AsyncClient, fake_provider: FakeProvider, slots: tuple[str, StreamSlots]
) -> None:
    sid = await _session(http)
    fake_provider.script(Reply(text="slow answer", chunks=3, stall_after=1, stall_s=30.0))
    fake_provider.script(Reply(text="next"))

    async with http.stream("POST", _chat_url(sid), json=_streamed("first")) as first:
        chunks = first.aiter_text()
        await _first_frame(chunks)
        assert slots[1].open_streams("local") == 1
    # Disconnected mid-stream: the server notices (at once, or at its next frame).
    for _ in range(300):  # up to 15 s
        if not slots[1].open_streams("local"):
            break
        await anyio.sleep(0.05)

    assert slots[1].open_streams("local") == 0, "the slot was not released after 15 s"
    after = await http.post(_chat_url(sid), json=_streamed("next"))
    assert after.status_code == 200
