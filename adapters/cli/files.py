"""Files a command writes (bundles, reports): checked before the work, put in place whole.

A path that cannot be written is a usage error (exit 2) raised before anything
is read or recorded; the content goes to a temporary file beside it that
replaces the file only once complete, so a failure never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from adapters.cli.errors import CliInputError

T = TypeVar("T")


def writable_path(option: str, name: str) -> Path:
    """The file `name` given to `option`, refused now when it cannot be written."""
    path = Path(name)
    if path.is_dir():
        raise CliInputError(f"{option}: {name} is a directory")
    if not path.parent.is_dir():
        raise CliInputError(f"{option}: no such directory: {path.parent}")
    return path


def write_whole(path: Path, write: Callable[[BinaryIO], T]) -> T:
    """Let `write` fill a temporary file beside `path`, then put it in place; its result."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            result = write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def write_text(path: Path, text: str) -> None:
    """`text` as UTF-8 in `path`, whole."""
    write_whole(path, lambda out: out.write(text.encode()))
