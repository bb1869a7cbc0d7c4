"""The hook by which event recorders update views inside their own transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from projections.base import Cursor

_MOVED = "inline_positions_moved"
"""The recorder's keyword for `advance_inline`'s result, read back by `project_inline`."""


class InlineProjector(Protocol):
    """Called with the recorder's cursor, the recorded events and their notification ids."""

    def advance_inline(self, cursor: Cursor, count: int) -> Callable[[], set[str]]: ...

    def apply_inline(
        self,
        cursor: Cursor,
        events: Sequence[Any],
        ids: Sequence[int],
        *,
        moved: set[str] | None = None,
    ) -> None: ...


class InlineProjecting:
    """Mixin for application recorders: run the attached projector after each insert."""

    inline: InlineProjector | None = None

    def advance_inline(self, cursor: Any, count: int, kwargs: dict[str, Any]) -> None:
        """Queue the positions' move with the insert of `count` events (before their ids)."""
        if self.inline is not None and kwargs.get("recorded_events"):
            kwargs[_MOVED] = self.inline.advance_inline(cursor, count)

    def project_inline(
        self, cursor: Any, ids: Sequence[int] | None, kwargs: dict[str, Any]
    ) -> None:
        events = kwargs.get("recorded_events")
        if self.inline is not None and ids and events:
            moved = kwargs.pop(_MOVED, None)
            self.inline.apply_inline(cursor, events, ids, moved=None if moved is None else moved())
