"""An incremental Server-Sent Events parser, as the WHATWG spec reads an event stream.

Bytes arrive in arbitrary chunks (an httpx `aiter_bytes()`); lines end in LF, CRLF or a lone
CR, possibly split across chunks. `event`, `data` and `id` fields are kept, multi-line data is
joined with LF, comment lines (`:` keep-alives) are skipped, and an event still open when the
body ends is delivered rather than lost. Lines that are no SSE field at all are kept aside in
`ignored`, because Gemini reports a late failure as plain JSON in the middle of an SSE body.
Knows nothing of providers; imports the standard library only.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator
from dataclasses import dataclass

_FIELDS = frozenset({"event", "data", "id", "retry"})


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event; `event` is `None` when the stream named none (spec: "message")."""

    data: str
    event: str | None = None
    id: str | None = None


class LineSplitter:
    """Splits a byte stream into text lines at LF, CRLF or CR, whatever the chunking."""

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it

    def feed(self, chunk: bytes) -> list[str]:
        if not chunk:
            return []
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._skip_lf = False
        self._buffer += chunk
        lines: list[str] = []
        # bytes.splitlines recognises exactly LF, CRLF and CR (unlike str.splitlines).
        pieces = self._buffer.splitlines(keepends=True)
        self._buffer = b""
        for piece in pieces:
            if piece.endswith(b"\r\n"):
                lines.append(_text(piece[:-2]))
            elif piece.endswith(b"\n"):
                lines.append(_text(piece[:-1]))
            elif piece.endswith(b"\r"):
                lines.append(_text(piece[:-1]))
                self._skip_lf = True
            else:
                self._buffer = piece  # the unterminated tail, always the last piece
        return lines

    def flush(self) -> list[str]:
        """The unterminated last line, if the body ended without a line break."""
        rest, self._buffer = self._buffer, b""
        return [_text(rest)] if rest else []


class SSEDecoder:
    """Turns lines into events; `decode` returns an event when a blank line dispatches one."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._last_id: str | None = None
        self._first_line = True
        self.ignored: list[str] = []
        """Lines that carry no SSE field (not comments), in arrival order."""

    def decode(self, line: str) -> ServerSentEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._last_id = value
        elif name not in _FIELDS:
            self.ignored.append(line)
        return None

    def flush(self) -> ServerSentEvent | None:
        """The event left open when the body ended without a blank line."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        event, data = self._event, self._data
        self._event, self._data = None, []
        if not data:
            return None
        return ServerSentEvent(data="\n".join(data), event=event or None, id=self._last_id)


async def aiter_sse(
    chunks: AsyncIterable[bytes], *, ignored: list[str] | None = None
) -> AsyncGenerator[ServerSentEvent, None]:
    """The events of a byte stream, as they complete; `ignored` collects non-field lines."""
    splitter, decoder = LineSplitter(), SSEDecoder()
    if ignored is not None:
        decoder.ignored = ignored
    async for chunk in chunks:
        for event in _decoded(decoder, splitter.feed(chunk)):
            yield event
    for event in _ended(splitter, decoder):
        yield event


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """The events of a byte stream held in memory (recorded fixtures, tests)."""
    splitter, decoder = LineSplitter(), SSEDecoder()
    for chunk in chunks:
        yield from _decoded(decoder, splitter.feed(chunk))
    yield from _ended(splitter, decoder)


def _decoded(decoder: SSEDecoder, lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """The events that `lines` complete."""
    for line in lines:
        if (event := decoder.decode(line)) is not None:
            yield event


def _ended(splitter: LineSplitter, decoder: SSEDecoder) -> Iterator[ServerSentEvent]:
    """The events still pending when the stream ends (a last line without its newline)."""
    yield from _decoded(decoder, splitter.flush())
    if (event := decoder.flush()) is not None:
        yield event


def _text(line: bytes) -> str:
    # Line breaks never occur inside a UTF-8 multi-byte sequence, so per-line decoding is safe.
    return line.decode("utf-8", errors="replace")
