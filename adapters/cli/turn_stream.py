"""A streamed turn, followed from the command's thread: its events, and what Ctrl-C does.

`TurnEvents` starts a turn on the ledger's event loop (`ChatService.start`, as
`Ledger.astream` does) and pulls its events into the main thread one at a time,
so the models' HTTP client stays on that one loop while all printing happens
here. `follow` shows them until `done` or `error`. The turn runs in its own
task, so it is recorded when it ends even if nobody watches: the first Ctrl-C
therefore only hides the rest of the reply and keeps waiting (it is counted, not
raised, so no event is lost half-pulled). A second Ctrl-C stops waiting: the
turn's task is cancelled (nothing is recorded for it) before the ledger closes,
so no database write is cut off by the process exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import CancelledError, Future, wait
from types import FrameType
from typing import Any

from adapters.chat import TurnHandle
from adapters.chat_events import DoneEvent, ErrorEvent
from adapters.cli.chat_display import TurnDisplay
from domain.errors import EngineError

END = object()
"""What `TurnEvents.next` returns once the stream has ended."""
IDLE = object()
"""What `TurnEvents.next` returns when nothing came in time."""
POLL_SECONDS = 0.1
"""How soon a Ctrl-C during a silent stretch (a model thinking) is acknowledged."""
CANCEL_TIMEOUT_SECONDS = 10
"""How long a cancelled turn may take to stop (a database write in progress finishes)."""


async def _pull(events: AsyncIterator[Any]) -> Any:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return END


async def _stopped(turn: asyncio.Future[Any]) -> None:
    turn.cancel()
    await asyncio.wait({turn})


class TurnEvents:
    """A turn started on `loop`, its events pulled one at a time into the calling thread."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, start: Coroutine[Any, Any, TurnHandle]
    ) -> None:
        self.loop = loop
        self._started = asyncio.run_coroutine_threadsafe(start, loop)
        self._events: AsyncIterator[Any] | None = None
        self._pending: Future[Any] | None = None

    def next(self, timeout: float | None = None) -> Any:
        """The next event; `IDLE` if nothing came within `timeout` seconds; `END` after the
        last. A refused turn (unknown session, provider not configured …) raises here."""
        if self._events is None:
            if not wait([self._started], timeout=timeout).done:
                return IDLE
            self._events = self._started.result().events()
        if self._pending is None:
            self._pending = asyncio.run_coroutine_threadsafe(_pull(self._events), self.loop)
        if not wait([self._pending], timeout=timeout).done:
            return IDLE
        pulled, self._pending = self._pending, None
        return pulled.result()

    def cancel_turn(self) -> None:
        """Cancel the turn itself, once started, and wait until its task has stopped."""
        with contextlib.suppress(EngineError, CancelledError, TimeoutError):
            task = self._started.result(timeout=CANCEL_TIMEOUT_SECONDS).task
            if task is not None:
                stopping = asyncio.run_coroutine_threadsafe(_stopped(task), self.loop)
                stopping.result(timeout=CANCEL_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Stop pulling and close the stream on its loop (the turn's own task runs on)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None and not self.loop.is_closed():
            # RuntimeError: the generator is still busy with a cancelled pull; the loop ends it.
            with contextlib.suppress(CancelledError, TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(aclose(), self.loop).result(timeout=5)


@contextlib.contextmanager
def counted_interrupts() -> Iterator[Callable[[], int]]:
    """While the block runs, a first Ctrl-C is counted rather than raised; a second raises
    `KeyboardInterrupt`. Yields the count. (Signals reach only the main thread: elsewhere
    nothing changes.)"""
    count = 0

    def interrupted(signum: int, frame: FrameType | None) -> None:
        nonlocal count
        count += 1
        if count > 1:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield lambda: count
        return
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield lambda: count
    finally:
        signal.signal(signal.SIGINT, previous)


def follow(
    loop: asyncio.AbstractEventLoop,
    start: Coroutine[Any, Any, TurnHandle],
    display: TurnDisplay,
) -> DoneEvent | ErrorEvent | None:
    """Start the turn and show its events until `done` or `error` (None if it ended without
    either); a second Ctrl-C cancels the turn and raises `KeyboardInterrupt`."""
    with counted_interrupts() as interrupts:
        events = TurnEvents(loop, start)
        try:
            while True:
                if interrupts() and not display.hidden:
                    display.hide()
                event = events.next(timeout=POLL_SECONDS)
                if event is IDLE:
                    continue
                if event is END:
                    return None
                display.show(event)
                if isinstance(event, DoneEvent | ErrorEvent):
                    return event
        except KeyboardInterrupt:
            events.cancel_turn()
            raise
        finally:
            events.close()
