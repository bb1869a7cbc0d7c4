"""The Server-Sent Events parser reads an event stream however its bytes are chunked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.llm.sse import ServerSentEvent, SSEDecoder, aiter_sse, iter_sse

ANTHROPIC_LIKE = (
    b"event: message_start\n"
    b'data: {"type":"message_start"}\n'
    b"\n"
    b": keep-alive\n"
    b"\n"
    b"event: content_block_delta\n"
    b"id: 7\n"
    b'data: {"text":"h\xc3\xa9"}\n'
    b"\n"
)


def events(raw: bytes) -> list[ServerSentEvent]:
    return list(iter_sse([raw]))


def test_events_keep_their_name_data_and_id_and_comments_are_skipped() -> None:
    assert events(ANTHROPIC_LIKE) == [
        ServerSentEvent(data='{"type":"message_start"}', event="message_start"),
        ServerSentEvent(data='{"text":"hé"}', event="content_block_delta", id="7"),
    ]


def test_an_event_without_a_name_has_none() -> None:
    assert events(b"data: [DONE]\n\n") == [ServerSentEvent(data="[DONE]")]


def test_multi_line_data_is_joined_with_line_feeds() -> None:
    assert events(b"data: first\ndata:second\ndata\n\n") == [
        ServerSentEvent(data="first\nsecond\n")
    ]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert events(b"data:  indented\n\n") == [ServerSentEvent(data=" indented")]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_line_ending_ends_a_line(ending: bytes) -> None:
    raw = ANTHROPIC_LIKE.replace(b"\n", ending)

    assert events(raw) == events(ANTHROPIC_LIKE)


def test_a_final_event_without_a_trailing_blank_line_is_delivered() -> None:
    assert events(b'data: {"a":1}\n\ndata: {"b":2}') == [
        ServerSentEvent(data='{"a":1}'),
        ServerSentEvent(data='{"b":2}'),
    ]


def test_fields_without_data_dispatch_nothing() -> None:
    assert events(b"event: ping\n\nid: 3\n\nretry: 100\n\n") == []


def test_the_last_id_carries_over_to_later_events() -> None:
    assert [e.id for e in events(b"id: 1\ndata: a\n\ndata: b\n\n")] == ["1", "1"]


def test_a_byte_order_mark_at_the_start_is_ignored() -> None:
    assert events(b"\xef\xbb\xbfdata: x\n\n") == [ServerSentEvent(data="x")]


def test_lines_that_are_no_field_are_kept_aside_for_whoever_needs_them() -> None:
    decoder = SSEDecoder()
    lines = ["{", '  "error": {"code": 503}', "}", ": a comment", "data: x"]

    for line in lines:
        decoder.decode(line)

    assert decoder.ignored == ["{", '  "error": {"code": 503}', "}"]


@given(st.lists(st.integers(min_value=0, max_value=len(ANTHROPIC_LIKE)), max_size=12))
def test_any_chunking_of_the_bytes_gives_the_same_events(cuts: list[int]) -> None:
    raw = ANTHROPIC_LIKE.replace(b"\n", b"\r\n")  # CRLF may be cut between CR and LF
    bounds = [0, *sorted(cuts), len(raw)]
    chunks = [raw[start:end] for start, end in pairwise(bounds)]

    assert list(iter_sse(chunks)) == events(ANTHROPIC_LIKE)


def test_a_cut_inside_a_multi_byte_character_keeps_the_character() -> None:
    raw = 'data: "ø"\n\n'.encode()
    cut = raw.index("ø".encode()) + 1

    assert list(iter_sse([raw[:cut], raw[cut:]])) == [ServerSentEvent(data='"ø"')]


@pytest.mark.anyio
async def test_the_async_parser_reads_an_httpx_body_as_it_arrives() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = [ANTHROPIC_LIKE[:5], ANTHROPIC_LIKE[5:40], ANTHROPIC_LIKE[40:]]
        return httpx.Response(200, content=iter_bytes(chunks))

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        client.stream("GET", "http://provider.test/stream") as response,
    ):
        received = [event async for event in aiter_sse(response.aiter_bytes())]

    assert received == events(ANTHROPIC_LIKE)


async def iter_bytes(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
