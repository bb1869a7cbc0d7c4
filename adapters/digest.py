"""Signed digests: every stream's head and count, signed, to keep outside the database.

A hash chain shows edits, swaps, insertions and deletions inside a stream, but not
a tail cut off or a stream rewritten with recomputed hashes; a digest kept
elsewhere does. The document (JSON) lists each stream's tenant, id, event count
and head hash, sorted by stream id, with a root hash over them, and an Ed25519
signature over its canonical form (sorted keys, no spaces, after a domain tag):

    {"format": "chatledger-digest/1", "created_at": "…", "tenant_id": "t1" | null,
     "streams": [{"tenant_id": "t1", "stream_id": "…", "count": 4, "head": "<hex>"}],
     "root": "<hex>", "key_id": "<hex>", "signature": "<base64>"}

`check_digest` accepts a document only if it parses strictly (unknown fields,
wrong types, unsorted or repeated streams are refused), was signed by the given
key and its root matches its streams; anything else is a `DigestInvalidError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from adapters.integrity import Expected, StreamHead
from adapters.signing import SigningKey, key_id, signature_holds
from domain.errors import DigestInvalidError

FORMAT = "chatledger-digest/1"
SIGNATURE_TAG = b"chatledger/digest-signature/v1\x00"
ROOT_TAG = b"chatledger/digest-root/v1\x00"

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
StreamId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]


class DigestStream(BaseModel):
    """One stream as the digest saw it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    tenant_id: str
    stream_id: StreamId
    count: int = Field(ge=1, le=2**63 - 1)
    head: Hex64
    """The stored hash of event number `count` (hex)."""


class Digest(BaseModel):
    """A digest document (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["chatledger-digest/1"]
    created_at: str = Field(max_length=64)
    tenant_id: str | None
    """The tenant the digest covers; null for all tenants."""
    streams: list[DigestStream]
    root: Hex64
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    signature: str = Field(max_length=200)
    """Ed25519 over the domain tag and the canonical document without this field (base64)."""


def root_of(streams: Sequence[DigestStream]) -> str:
    digest = hashlib.sha256(ROOT_TAG)
    for s in streams:
        for text in (s.tenant_id, s.stream_id):
            data = text.encode()
            digest.update(len(data).to_bytes(8, "big") + data)
        digest.update(s.count.to_bytes(8, "big") + bytes.fromhex(s.head))
    return digest.hexdigest()


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    unsigned = {name: value for name, value in fields.items() if name != "signature"}
    return SIGNATURE_TAG + orjson.dumps(unsigned, option=orjson.OPT_SORT_KEYS)


def make_digest(
    heads: Sequence[StreamHead], key: SigningKey, *, tenant_id: str | None
) -> dict[str, Any]:
    """The signed digest document of verified stream heads."""
    streams = [
        DigestStream(tenant_id=h.tenant_id, stream_id=h.stream_id, count=h.count, head=h.head.hex())
        for h in sorted(heads, key=lambda h: h.stream_id)
    ]
    fields: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tenant_id": tenant_id,
        "streams": [s.model_dump() for s in streams],
        "root": root_of(streams),
        "key_id": key.key_id,
    }
    fields["signature"] = base64.b64encode(key.sign(_signed_bytes(fields))).decode()
    return fields


def _parsed(document: bytes | str | dict[str, Any]) -> Digest:
    try:
        if isinstance(document, dict):
            return Digest.model_validate(document)
        return Digest.model_validate_json(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise DigestInvalidError(f"{where}: {first['msg']}") from None
    except (RecursionError, UnicodeError):
        raise DigestInvalidError("not a JSON document") from None


def check_digest(document: bytes | str | dict[str, Any], public_key: Ed25519PublicKey) -> Digest:
    """A digest signed with `public_key`; `DigestInvalidError` if it is malformed,
    altered, or signed with another key."""
    digest = _parsed(document)
    if digest.key_id != key_id(public_key):
        raise DigestInvalidError(f"signed with another key ({digest.key_id})")
    try:
        signature = base64.b64decode(digest.signature, validate=True)
    except (binascii.Error, ValueError):
        raise DigestInvalidError("signature: not base64") from None
    if not signature_holds(public_key, signature, _signed_bytes(digest.model_dump())):
        raise DigestInvalidError("signature does not match the document (altered?)")
    ids = [s.stream_id for s in digest.streams]
    if ids != sorted(set(ids)):
        raise DigestInvalidError("streams: not sorted by stream id, or repeated")
    if root_of(digest.streams) != digest.root:
        raise DigestInvalidError("root does not match the streams")
    return digest


def expected_streams(digest: Digest, *, tenant_id: str | None = None) -> dict[str, Expected]:
    """A checked digest's streams by id (those of `tenant_id` only, when given)."""
    return {
        s.stream_id: Expected(tenant_id=s.tenant_id, count=s.count, head=bytes.fromhex(s.head))
        for s in digest.streams
        if tenant_id is None or s.tenant_id == tenant_id
    }
