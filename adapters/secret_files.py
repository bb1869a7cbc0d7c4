"""Secret files (the master key, the signing key): created once, whole, with mode 0600.

Two processes creating the same file at once end with one key: the content is
written to a private temporary file first and linked into place (`os.link` fails
when the name exists), so no reader ever sees a half-written key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_secret_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` (0600, its directory 0700), unless `path` already exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
