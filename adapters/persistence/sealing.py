"""Sealed events: the user's content encrypted with AES-GCM, the rest in the clear.

A sealed event's stored `state` is compact binary, not JSON (plain events
start with `{`, sealed ones with the format byte), so no base64 inflates it:

    0x01 | u32 header length | header (the event's JSON without its sealed fields)
         | u8 segments | per segment: u8 name length | key name | 12-byte nonce
                                     | u32 length | ciphertext (AES-GCM, tag included)

Segment i holds the fields of the event class's `sealed[i]` as a JSON object
(path to value), under the key named in the segment ("" the session's, else a
message id). The associated data binds each ciphertext to its session,
version, topic and key name, so sealed content cannot be moved to another
event. Opening a segment whose key was destroyed gives the class's placeholders.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.persistence.key_store import key_name
from adapters.persistence.keyring import KeyRef, Keyring
from domain.sealing import ERASED, REDACTED, Sealed, put, take, with_placeholders
from domain.session import Session

log = logging.getLogger(__name__)

FORMAT = 0x01
NONCE_BYTES = 12
_U32 = struct.Struct(">I")
_FORMAT_BYTE = bytes([FORMAT])


def is_sealed(data: bytes) -> bool:
    return bool(data) and data[0] == FORMAT


class Sealer:
    """Seals and opens the content of events, with keys from a `Keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(
        self,
        session_id: UUID,
        version: int,
        topic: str,
        state: dict[str, Any],
        sealed: Sequence[Sealed],
        *,
        fresh_session: bool,
        existing_keys_only: bool = False,
    ) -> bytes | None:
        """`state` as sealed bytes (`state` loses its sealed fields).

        With `existing_keys_only` (snapshots: no transaction stores a new key for them),
        None when a key does not exist yet: a session stored before sealing.
        """
        keyring = self.keyring
        keys = []
        for spec in sealed:
            name = key_name(spec.key_name(state))
            if existing_keys_only:
                key = keyring.opening_key(session_id, name)
                if key is None:
                    return None
            else:
                key = keyring.sealing_key(session_id, name, fresh=bool(name) or fresh_session)
            keys.append((name, key))
        segments = []
        for spec, (name, key) in zip(sealed, keys, strict=True):
            content = {}
            for path in spec.placeholders:
                present, value = take(state, path)
                if present:
                    content[path] = value
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = AESGCM(key).encrypt(
                nonce, orjson.dumps(content), _associated(session_id, version, topic, name)
            )
            encoded = name.encode()
            segments += [
                bytes([len(encoded)]),
                encoded,
                nonce,
                _U32.pack(len(ciphertext)),
                ciphertext,
            ]
        header = orjson.dumps(state)
        return b"".join(
            [_FORMAT_BYTE, _U32.pack(len(header)), header, bytes([len(keys)]), *segments]
        )

    def open(
        self,
        session_id: UUID,
        version: int,
        topic: str,
        data: bytes,
        sealed_for: Callable[[dict[str, Any]], Sequence[Sealed]],
    ) -> dict[str, Any]:
        """The event's JSON state, with placeholders where keys were destroyed.

        `sealed_for(header)` gives the event's `sealed` declaration (a snapshot's depends on
        the aggregate its header names).
        """
        header, segments = _parse(data)
        state: dict[str, Any] = orjson.loads(header)
        sealed = sealed_for(state)
        for index, (name, nonce, ciphertext) in enumerate(segments):
            key = self.keyring.opening_key(session_id, name)
            if key is None:
                if index < len(sealed):
                    with_placeholders(state, sealed[index], self._mark(session_id, name))
                continue
            aad = _associated(session_id, version, topic, name)
            try:
                content = orjson.loads(AESGCM(key).decrypt(nonce, ciphertext, aad))
            except InvalidTag:
                # Altered bytes (`chatledger verify` names them), or a key that is not the
                # one it was sealed with: what it held is unreadable, like an erased key's.
                log.warning(
                    "sealed content of session %s version %d does not open", session_id, version
                )
                if index < len(sealed):
                    with_placeholders(state, sealed[index], REDACTED if name else ERASED)
                continue
            for path, value in content.items():
                put(state, path, value)
        return state

    def observe(self, event: Any) -> None:
        """Forget keys that an erasure or redaction just read destroyed."""
        if isinstance(event, Session.ContentErased):
            self.keyring.forget(event.originator_id)
        elif isinstance(event, Session.MessageRedacted):
            self.keyring.forget(event.originator_id, event.message_id)

    def _mark(self, session_id: UUID, name: str) -> str:
        if name and self.keyring.opening_key(session_id, "") is not None:
            return REDACTED
        return ERASED


def readable_fields(data: bytes) -> Any:
    """What anyone may read of a stored state: its JSON, or a sealed event's header.

    Raises `ValueError` (orjson's decode error included) for bytes that are neither.
    """
    if is_sealed(data):
        try:
            data = _parse(data)[0]
        except (IndexError, struct.error) as error:
            raise ValueError("truncated sealed event") from error
    return orjson.loads(data)


def key_refs(session_id: UUID, data: bytes) -> Iterator[KeyRef]:
    """The keys a stored event's state was sealed with (none for plain JSON)."""
    if is_sealed(data):
        for name, _, _ in _parse(data)[1]:
            yield session_id, name


def header_of(data: bytes) -> bytes:
    """A sealed state's header (its JSON without the sealed fields), segments unread."""
    (length,) = _U32.unpack_from(data, 1)
    return data[5 : 5 + length]


def _parse(data: bytes) -> tuple[bytes, list[tuple[str, bytes, bytes]]]:
    (length,) = _U32.unpack_from(data, 1)
    at = 5 + length
    header = data[5:at]
    count = data[at]
    at += 1
    segments = []
    for _ in range(count):
        size = data[at]
        name = data[at + 1 : at + 1 + size].decode()
        at += 1 + size
        nonce = data[at : at + NONCE_BYTES]
        at += NONCE_BYTES
        (length,) = _U32.unpack_from(data, at)
        at += 4
        segments.append((name, nonce, data[at : at + length]))
        at += length
    return header, segments


def _associated(session_id: UUID, version: int, topic: str, name: str) -> bytes:
    return session_id.bytes + version.to_bytes(8, "big") + f"{topic}\n{name}".encode()
