"""A time limit for CPU-bound Python code running in the calling thread.

A template can loop for a long time without producing output, so checking the
clock between output chunks is not enough. `deadline(seconds)` arms a timer
that, when it fires first, raises `RenderTimeout` inside the thread that armed
it, at its next Python bytecode (CPython's `PyThreadState_SetAsyncExc`). The
exception derives from `BaseException`, so template code and the libraries it
runs cannot swallow it. Leaving the block disarms the timer under a lock, so
the exception can only arrive inside the block (or while leaving it).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RenderTimeout(BaseException):
    """The block ran past its deadline (raised into the thread running it)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Run the block with `RenderTimeout` raised into it after `seconds`."""
    thread_id = threading.get_ident()
    lock = threading.Lock()
    armed = True

    def expire() -> None:
        with lock:
            if armed:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(RenderTimeout)
                )

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            armed = False
        timer.cancel()
