"""The data keys of session content, wrapped by the master key, in `session_keys`.

One row per key: the session, the key's name within it ("" for the session's
own key, else a message id) and the key wrapped with AES-GCM under the master
key (nonce and tag included, bound to the session and name), so a copy of the
database alone holds no usable key. Rows are written and deleted through the
recorder's cursor, in the transaction that records the events that use or
erase them; key rows are not events, and deleting them is the point.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.master_key import MasterKeyError
from adapters.persistence.sql_dialect import Dialect, ReadTransaction, execute_rows
from projections.base import Cursor

NONCE_BYTES = 12
MAX_NAME_BYTES = 64
KEYS_TABLE = "session_keys"


def key_name(message_id: str) -> str:
    """The name of a message's key: its id, or a digest of an id too long to frame."""
    if len(message_id.encode()) <= MAX_NAME_BYTES:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:48]


class KeyStore:
    """Wraps, stores, finds and destroys data keys."""

    def __init__(self, dialect: Dialect, read: ReadTransaction, master_key: bytes) -> None:
        self.d = dialect
        self.read = read
        self.t = dialect.table(KEYS_TABLE)
        self._master = AESGCM(master_key)

    def create_statements(self) -> list[str]:
        postgres = self.d.name == "postgres"
        blob, rowid = ("BYTEA", "") if postgres else ("BLOB", " WITHOUT ROWID")
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t} (session_id TEXT NOT NULL,"
            f" name TEXT NOT NULL, wrapped {blob} NOT NULL, PRIMARY KEY (session_id, name)){rowid}"
        ]

    def wrap(self, session_id: UUID, name: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, key, _bound(session_id, name))

    def unwrap(self, session_id: UUID, name: str, wrapped: bytes) -> bytes:
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            return self._master.decrypt(nonce, sealed, _bound(session_id, name))
        except InvalidTag:
            raise MasterKeyError(
                "the master key does not open this database's keys (wrong CHATLEDGER_MASTER_KEY"
                " or secrets directory?)"
            ) from None

    def load(self, session_id: UUID, name: str | None = None) -> dict[str, bytes]:
        """The session's stored keys (or the one named), unwrapped, by name."""
        sql = f"SELECT name, wrapped FROM {self.t} WHERE session_id = ?"
        params: list[str] = [str(session_id)]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        with self.read() as cursor:
            cursor.execute(self.d.sql(sql), params)
            rows = cursor.fetchall()
        return {
            row["name"]: self.unwrap(session_id, row["name"], bytes(row["wrapped"])) for row in rows
        }

    def rows(self, keys: Iterable[tuple[UUID, str, bytes]]) -> list[tuple[str, str, bytes]]:
        """New keys as `session_keys` rows: session, name, wrapped key."""
        return [(str(sid), name, self.wrap(sid, name, key)) for sid, name, key in keys]

    def insert(self, cursor: Cursor, keys: Iterable[tuple[UUID, str, bytes]]) -> None:
        """Store new keys (a key already stored under the name is an integrity error)."""
        sql = self.d.sql(f"INSERT INTO {self.t} (session_id, name, wrapped) VALUES (?, ?, ?)")
        execute_rows(cursor, sql, self.rows(keys))

    def destroy(self, cursor: Cursor, session_id: UUID, name: str | None = None) -> None:
        """Delete the session's keys (or the one named): what they sealed is gone for good."""
        sql = f"DELETE FROM {self.t} WHERE session_id = ?"
        params: list[str] = [str(session_id)]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        cursor.execute(self.d.sql(sql), params)


def _bound(session_id: UUID, name: str) -> bytes:
    """Associated data binding a wrapped key to its row."""
    return session_id.bytes + name.encode()
