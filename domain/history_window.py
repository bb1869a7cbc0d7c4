"""The history a model call recalled, recorded by position rather than message by message.

A turn recalls the session's whole model-facing history at the version it read (the
messages after the last clear, in order), then sends some of it, leaves the oldest out
to fit a context limit, and lets summaries stand in for ranges. A `HistoryWindow`
records that as spans of positions in that history, so the record of a call stays the
same size however long the conversation grows; the history of a version is fixed by the
log, so the positions name the same messages forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field

from domain.base import Immutable

Span = tuple[int, int]
"""Positions `[start, end)` in the history."""


class HistoryWindow(Immutable):
    """Which messages of the session's history at `version` a call sent, left out or
    had summarised, as spans of positions (0 is the first message after the last clear)."""

    version: int
    """The session's version when the history was read."""
    length: int
    """How many messages that history held."""
    sent: list[Span] = Field(default_factory=list)
    excluded: list[Span] = Field(default_factory=list)
    """Left out to fit the agent's context limit."""
    summarized: list[Span] = Field(default_factory=list)
    """Stood in for by summaries."""

    def ids(self, history_ids: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """The ids sent, excluded and summarised, given the ids of the history at `version`."""
        if len(history_ids) != self.length:
            raise ValueError(
                f"the history at version {self.version} holds {len(history_ids)} messages,"
                f" the window says {self.length}"
            )

        def pick(of: list[Span]) -> list[str]:
            return [history_ids[p] for p in positions(of)]

        return pick(self.sent), pick(self.excluded), pick(self.summarized)


def spans(sorted_positions: Iterable[int]) -> list[Span]:
    """Increasing positions as the fewest `[start, end)` spans."""
    result: list[Span] = []
    for position in sorted_positions:
        if result and result[-1][1] == position:
            result[-1] = (result[-1][0], position + 1)
        else:
            result.append((position, position + 1))
    return result


def positions(of: Iterable[Span]) -> list[int]:
    return [p for start, end in of for p in range(start, end)]
