"""Brute-force protection: failed authentications counted per client address.

A client address that fails `limit` times within `window` seconds is refused
(429 with `Retry-After`) until its oldest counted failure leaves the window.
State lives in this process's memory; at most `max_clients` addresses are
tracked (the least recently failing are forgotten first).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailedAuthentications:
    """Failures per client address over a sliding window."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> float | None:
        """Seconds until `client` may try again, or None when it may try now."""
        failures = self._recent(client)
        if len(failures) < self.limit:
            return None
        return max(0.0, failures[0] + self.window - self.clock())

    def record(self, client: str) -> None:
        """Count one failed authentication from `client`."""
        failures = self._recent(client)
        failures.append(self.clock())
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        while len(failures) > self.limit:
            failures.popleft()
        return failures
