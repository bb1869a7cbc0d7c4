"""The hook by which event recorders update views inside their own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from projections.base import Cursor


class InlineProjector(Protocol):
    """Called with the recorder's cursor, the recorded events and their notification ids."""

    @property
    def names(self) -> tuple[str, ...]:
        """Every projection the projector applies inline, or none: a recorder that moves
        positions with its insert moves these, and passes `apply_inline` those that moved
        (`moved`); with none named it passes nothing, and `apply_inline` moves them."""
        ...

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

    def project_inline(
        self, cursor: Any, ids: Sequence[int] | None, kwargs: dict[str, Any]
    ) -> None:
        events = kwargs.get("recorded_events")
        if self.inline is not None and ids and events:
            self.inline.apply_inline(cursor, events, ids)
