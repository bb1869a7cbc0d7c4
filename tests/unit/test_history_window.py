"""A call's recalled history by position: spans made and read back, and a history of
the wrong length refused."""

from __future__ import annotations

import pytest

from domain.history_window import HistoryWindow, positions, spans


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        ([0, 1, 2], [(0, 3)]),
        ([0, 2, 3, 7], [(0, 1), (2, 4), (7, 8)]),
    ],
)
def test_positions_become_the_fewest_spans_and_back(
    given: list[int], expected: list[tuple[int, int]]
) -> None:
    assert spans(given) == expected
    assert positions(expected) == given


def test_a_window_names_the_ids_sent_excluded_and_summarised() -> None:
    window = HistoryWindow(
        version=9, length=6, sent=[(3, 6)], excluded=[(2, 3)], summarized=[(0, 2)]
    )

    assert window.ids(["a", "b", "c", "d", "e", "f"]) == (["d", "e", "f"], ["c"], ["a", "b"])


def test_a_history_of_another_length_is_refused() -> None:
    window = HistoryWindow(version=9, length=2, sent=[(0, 2)])

    with pytest.raises(ValueError, match="holds 3 messages"):
        window.ids(["a", "b", "c"])


def test_the_window_is_stored_as_plain_json() -> None:
    window = HistoryWindow(version=4, length=3, sent=[(0, 3)])

    assert window.model_dump(mode="json") == {
        "version": 4,
        "length": 3,
        "sent": [[0, 3]],
        "excluded": [],
        "summarized": [],
    }
    assert HistoryWindow.model_validate_json(window.model_dump_json()) == window
