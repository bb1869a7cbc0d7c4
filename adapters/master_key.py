"""The master key that wraps every data key: from the environment or a secrets file.

`CHATLEDGER_MASTER_KEY` (32 bytes, base64) wins; otherwise the key lives in
`<secrets_dir>/master.key` (base64), created with mode 0600 on first use. Keep
it out of the database's backups: a dump alone then holds no usable key.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from adapters.secret_files import create_secret_file

KEY_BYTES = 32
FILE_NAME = "master.key"


class MasterKeyError(ValueError):
    """A master key that is not 32 bytes of base64."""


def load_master_key(configured: str | None, secrets_dir: str) -> bytes:
    """The configured master key, else the one in `secrets_dir` (created when missing)."""
    if configured:
        return _decoded(configured, "CHATLEDGER_MASTER_KEY")
    path = Path(secrets_dir) / FILE_NAME
    if not path.exists():
        _create(path)
    return _decoded(path.read_text(), str(path))


def _create(path: Path) -> None:
    create_secret_file(path, base64.b64encode(os.urandom(KEY_BYTES)) + b"\n")


def _decoded(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{source}: the master key must be {KEY_BYTES} bytes, base64-encoded")
    return key
