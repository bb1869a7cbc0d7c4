"""What an API key looks like on the wire, and how its secret is checked.

A key is `clk_<key id, 32 hex digits>_<secret>`, the secret being 32 random
bytes in unpadded base64url. Only the SHA-256 of the secret is stored (a
secret of 256 random bits needs no slow hash), and it is compared in constant
time. This module owns the format only; it reads no database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from uuid import UUID

PREFIX = "clk_"
SECRET_BYTES = 32

_TOKEN = re.compile(r"clk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
_NO_MATCH = hashlib.sha256(b"no key has this hash").hexdigest()


def new_secret() -> str:
    """A fresh secret: 32 random bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def key_token(key_id: UUID, secret: str) -> str:
    """The key as a client sends it."""
    return f"{PREFIX}{key_id.hex}_{secret}"


def parse_token(token: str) -> tuple[UUID, str] | None:
    """The key id and secret of a well-formed key, else None."""
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        return None
    return UUID(hex=match.group(1)), match.group(2)


def secret_sha256(secret: str) -> str:
    """The hex SHA-256 of a secret, as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_sha256: str | None) -> bool:
    """Whether `secret` hashes to `stored_sha256`, in constant time (None: no key, still
    compared, so an unknown key id costs what a known one does)."""
    expected = stored_sha256 or _NO_MATCH
    return hmac.compare_digest(secret_sha256(secret), expected) and stored_sha256 is not None
