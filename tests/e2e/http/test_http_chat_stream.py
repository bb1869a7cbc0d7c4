"""Streamed chat turns as SSE against real provider wire formats (the fake provider speaking
OpenAI, Anthropic and Gemini): deltas, thinking, failures mid-stream, and clients that go
away, over the in-process transport and over a real uvicorn server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from adapters.http.app import create_app
from adapters.ledger import Ledger
from adapters.settings import Settings
from tests.support.fake_provider import Fail, FakeProvider, Reply
from tests.support.live_server import serving
from tests.support.sse import Frame, parse_frame, parse_stream

pytestmark = pytest.mark.anyio

TERMINAL = ("done", "error")


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def settings(make_fake_settings: Callable[..., Settings], provider: str) -> Settings:
    """`provider` by default, served by the fake provider."""
    return make_fake_settings(default_provider=provider)


@pytest.fixture
def server_url(ledger: Ledger, settings: Settings) -> Iterator[str]:
    """The same ledger served by a real uvicorn server on 127.0.0.1."""
    app = create_app(ledger, settings)
    # Provider connections belong to the server's loop: close them there, at shutdown.
    app.router.add_event_handler("shutdown", ledger.chat_service.models.aclose)
    with serving(app) as url:
        yield url


async def _session(client: httpx.AsyncClient) -> str:
    return str((await client.post("/v1/sessions", json={"title": "Weather"})).json()["id"])


async def _events(client: httpx.AsyncClient, sid: str, kind: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/sessions/{sid}/events", params={"limit": 1000})
    return [e["data"] for e in response.json()["data"] if e["type"] == f"Session.{kind}"]


def _content(frames: list[Frame]) -> str:
    return "".join(f.data["content"] for f in frames if f.event == "content")


def _check_shape(frames: list[Frame]) -> None:
    """`execution` first, exactly one terminal event, last; every data names its event."""
    assert frames[0].event == "execution"
    assert [f.event for f in frames if f.event in TERMINAL] == [frames[-1].event]
    assert frames[-1].event in TERMINAL
    assert all(f.data["event"] == f.event for f in frames)


async def test_a_streamed_turn_sends_execution_content_deltas_and_one_done(
    client: httpx.AsyncClient, fake_provider: FakeProvider, provider: str
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="Sunny and mild in Lisbon today.", chunks=4))

    response = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "Weather?", "stream": True}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    frames = parse_stream(response.text)
    _check_shape(frames)
    assert frames[-1].event == "done"
    assert len([f for f in frames if f.event == "content"]) == 4
    done = frames[-1].data
    assert _content(frames) == done["output"] == "Sunny and mild in Lisbon today."
    assert (done["provider"], done["finish_reason"]) == (provider, "stop")
    assert frames[0].data["session_id"] == sid
    assert frames[0].data["user_message_id"] == done["user_message_id"]
    history = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]
    assert [m["id"] for m in history] == [done["user_message_id"], done["message_id"]]
    (completion,) = await _events(client, sid, "CompletionRecorded")
    assert completion["streamed"] is True
    assert completion["reply"]["usage"]["input_tokens"] == done["token_usage"]["input_tokens"]


async def test_accept_text_event_stream_asks_for_a_stream_and_stream_false_overrides_it(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="one"), Reply(text="two"))
    sse = {"Accept": "text/event-stream"}

    streamed = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "a"}, headers=sse)
    plain = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "b", "stream": False}, headers=sse
    )

    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert parse_stream(streamed.text)[-1].data["output"] == "one"
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["output"] == "two"


@pytest.mark.parametrize("provider", ["anthropic", "gemini"])  # OpenAI's chat streams none
async def test_thinking_streams_as_thinking_frames_before_the_answer(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="It is 3 degrees.", thinking="Check the forecast.", chunks=2))

    response = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "Cold?", "stream": True}
    )

    frames = parse_stream(response.text)
    _check_shape(frames)
    thinking = "".join(f.data["content"] for f in frames if f.event == "thinking")
    assert thinking == "Check the forecast."
    events = [f.event for f in frames]
    assert events.index("thinking") < events.index("content")
    assert _content(frames) == "It is 3 degrees."


async def test_a_provider_failing_mid_stream_ends_with_one_error_and_records_the_partial_text(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="alpha beta gamma delta epsilon", chunks=5, drop_after=2))

    response = await client.post(
        f"/v1/sessions/{sid}/chat", json={"message": "Tell me", "stream": True}
    )

    assert response.status_code == 200
    frames = parse_stream(response.text)
    _check_shape(frames)
    assert frames[-1].event == "error"
    received = _content(frames)
    assert len([f for f in frames if f.event == "content"]) == 2
    (failed,) = await _events(client, sid, "CompletionFailed")
    assert failed["completion_id"] == frames[-1].data["completion_id"]
    assert failed["partial"][0]["text"].encode() == received.encode()
    assert failed["streamed"] is True
    assert await _events(client, sid, "CompletionRecorded") == []
    assert (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"] == []


async def test_an_in_band_stream_error_after_content_is_one_error_frame(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="one two three", chunks=3, error_after=1))

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Go", "stream": True})

    frames = parse_stream(response.text)
    _check_shape(frames)
    assert frames[-1].event == "error"
    (failed,) = await _events(client, sid, "CompletionFailed")
    assert failed["partial"][0]["text"] == _content(frames)
    assert failed["error_type"] == frames[-1].data["type"]


async def test_a_failing_suggestions_call_still_ends_the_stream_with_one_terminal_frame(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(
        Reply(text="Here you go.", chunks=2), Fail(400, message="no suggestions today")
    )

    response = await client.post(
        f"/v1/sessions/{sid}/chat",
        json={"message": "Go", "stream": True, "suggestions": True},
    )

    frames = parse_stream(response.text)
    _check_shape(frames)
    assert _content(frames) == "Here you go."
    (completion,) = await _events(client, sid, "CompletionRecorded")
    assert completion["reply"]["candidates"][0]["content"][0]["text"] == "Here you go."


async def test_a_provider_failing_mid_stream_without_streaming_answers_502(
    client: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    sid = await _session(client)
    fake_provider.script(Reply(text="alpha beta gamma", chunks=3, drop_after=1))

    response = await client.post(f"/v1/sessions/{sid}/chat", json={"message": "Tell me"})

    assert response.status_code == 502
    (failed,) = await _events(client, sid, "CompletionFailed")
    assert failed["partial"][0]["text"] == "alpha "


async def test_a_stream_over_real_http_arrives_frame_by_frame(
    server_url: str, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(text="Rain later, then sun.", chunks=4))
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        sid = await _session(client)
        frames: list[Frame] = []
        async with client.stream(
            "POST",
            f"/v1/sessions/{sid}/chat",
            json={"message": "Forecast?"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            assert response.status_code == 200
            assert response.headers["x-accel-buffering"] == "no"
            frames = await _read_frames(response)

    _check_shape(frames)
    assert frames[-1].event == "done"
    assert _content(frames) == frames[-1].data["output"] == "Rain later, then sun."


async def test_a_client_that_disconnects_mid_stream_does_not_stop_the_turn(
    server_url: str, fake_provider: FakeProvider
) -> None:
    text = "The long answer arrives slowly."
    fake_provider.script(Reply(text=text, chunks=4, stall_after=1, stall_s=1.0))
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        sid = await _session(client)
        async with client.stream(
            "POST", f"/v1/sessions/{sid}/chat", json={"message": "Take your time", "stream": True}
        ) as response:
            first = await _read_frames(response, until="content")
        # The connection is closed here, mid-stream, while the provider stalls.
        assert [f.event for f in first] == ["execution", "content"]

        deadline = time.monotonic() + 15
        recorded: list[dict[str, Any]] = []
        while not recorded and time.monotonic() < deadline:
            recorded = await _events(client, sid, "CompletionRecorded")
        history = (await client.get(f"/v1/sessions/{sid}/messages")).json()["data"]

    assert recorded, "the turn was not recorded within 15 s of the disconnect"
    assert recorded[0]["reply"]["candidates"][0]["content"][0]["text"] == text
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["content"][0]["text"] == text


async def _read_frames(response: httpx.Response, *, until: str | None = None) -> list[Frame]:
    """Frames as they arrive; stop after the first `until` frame (or at the stream's end)."""
    frames: list[Frame] = []
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            frames.append(parse_frame(block))
            if frames[-1].event == until:
                return frames
    return frames
