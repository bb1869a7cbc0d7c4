"""Per-tenant caps on concurrent SSE streams: a slot per open stream, 429 over the cap.

`StreamSlots.acquire` takes a tenant's slot before a streamed turn starts, or
raises `TooManyRequestsError` (429 with `Retry-After`) when the tenant already
has `max_per_tenant` streams open. `SlotStreamingResponse` gives the slot back
when its stream is over however it ends: the last frame sent, the turn failed,
or the client went away. The turn itself runs on and is recorded regardless.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from domain.errors import TooManyRequestsError

RETRY_AFTER_SECONDS = 1.0
"""What a refused client is told to wait: streams are short, and one may end any moment."""


class StreamSlot:
    """One tenant's open stream; `release` (idempotent) frees it."""

    def __init__(self, slots: StreamSlots, tenant_id: str) -> None:
        self._slots = slots
        self.tenant_id = tenant_id
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._slots._release(self.tenant_id)


class StreamSlots:
    """Counts each tenant's open streams against `max_per_tenant` (0: no cap)."""

    def __init__(self, max_per_tenant: int) -> None:
        self.max_per_tenant = max_per_tenant
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, tenant_id: str) -> StreamSlot:
        """A slot for one more stream of `tenant_id`, or a 429-worthy error."""
        with self._lock:
            if self.max_per_tenant and self._open[tenant_id] >= self.max_per_tenant:
                raise TooManyRequestsError(
                    f"tenant {tenant_id!r} has {self._open[tenant_id]} streams open; "
                    f"the limit is {self.max_per_tenant}",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            self._open[tenant_id] += 1
        return StreamSlot(self, tenant_id)

    def open_streams(self, tenant_id: str) -> int:
        with self._lock:
            return self._open[tenant_id]

    def _release(self, tenant_id: str) -> None:
        with self._lock:
            self._open[tenant_id] -= 1
            if self._open[tenant_id] <= 0:
                del self._open[tenant_id]


class SlotStreamingResponse(StreamingResponse):
    """A streaming response that releases its slot once sent, failed or abandoned.

    The slot is free as soon as the last frame is produced, before the body ends, so a
    client may start its next stream the moment this one is over.
    """

    def __init__(self, frames: AsyncIterator[bytes], slot: StreamSlot, **options: Any) -> None:
        super().__init__(_releasing(frames, slot), **options)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


async def _releasing(frames: AsyncIterator[bytes], slot: StreamSlot) -> AsyncIterator[bytes]:
    try:
        async for frame in frames:
            yield frame
    finally:
        slot.release()


async def stream_slots(request: Request) -> StreamSlots:
    """The app's stream slots (a dependency)."""
    slots: StreamSlots = request.app.state.stream_slots
    return slots


StreamSlotsDep = Annotated[StreamSlots, Depends(stream_slots)]
