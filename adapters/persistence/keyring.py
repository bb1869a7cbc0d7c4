"""Data keys in memory: found, created, cached and forgotten, per process.

A session has its own key (name "") and one key per message (named by the
message id). Keys are random 256-bit AES keys. A new key is *pending* until
the transaction that records the first event sealed with it commits (the
recorder stores it in that transaction), and dropped if that transaction
fails. Stored keys are cached per session (least recently used sessions go
first); a key found missing is remembered as gone, because a key is stored
with the first event that uses it and only ever deleted afterwards. Erasure and
redaction forget keys here as soon as their events are recorded or read, so
every process stops opening them once it has seen the event.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from adapters.persistence.key_store import KeyStore, key_name

KEY_BYTES = 32
KeyRef = tuple[UUID, str]
"""A key's session and name."""


@dataclass
class _SessionKeys:
    keys: dict[str, bytes] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    suspect: set[str] = field(default_factory=set)
    """Names whose fresh key failed to store: look them up before making another."""
    loaded: bool = False
    erased: bool = False


class Keyring:
    """Finds and creates the data keys that seal session content."""

    def __init__(self, store: KeyStore, *, max_sessions: int = 2000) -> None:
        self.store = store
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[UUID, _SessionKeys] = OrderedDict()
        self._lock = threading.RLock()

    def sealing_key(self, session_id: UUID, name: str, *, fresh: bool) -> bytes:
        """The key to seal with; a new pending one when none exists.

        `fresh`: the name cannot have a stored key yet (a new session, a new message), so
        none is looked up; should one exist after all, storing the new one fails the
        transaction, and the retry looks it up.
        """
        with self._lock:
            keys = self._entry(session_id)
            if name in keys.keys:
                return keys.keys[name]
            if not fresh or name in keys.suspect:
                found = self._lookup(session_id, keys, name)
                if found is not None:
                    return found
            key = os.urandom(KEY_BYTES)
            keys.keys[name] = key
            keys.pending.add(name)
            keys.gone.discard(name)
            return key

    def opening_key(self, session_id: UUID, name: str) -> bytes | None:
        """The key to open with, or None when it was destroyed."""
        with self._lock:
            keys = self._entry(session_id)
            if name in keys.keys:
                return keys.keys[name]
            return self._lookup(session_id, keys, name)

    def pending(self, refs: Iterable[KeyRef]) -> list[tuple[UUID, str, bytes]]:
        """Those of `refs` that are pending, with their keys, to store now."""
        with self._lock:
            found = []
            for session_id, name in dict.fromkeys(refs):
                keys = self._sessions.get(session_id)
                if keys is not None and name in keys.pending:
                    found.append((session_id, name, keys.keys[name]))
            return found

    def settle(self, refs: Iterable[KeyRef], *, stored: bool) -> None:
        """After the transaction: pending keys become stored ones, or are dropped."""
        with self._lock:
            for session_id, name in refs:
                keys = self._sessions.get(session_id)
                if keys is None or name not in keys.pending:
                    continue
                keys.pending.discard(name)
                if not stored:
                    del keys.keys[name]
                    keys.suspect.add(name)

    def forget(self, session_id: UUID, message_id: str | None = None) -> None:
        """The session's keys (or one message's) were destroyed."""
        with self._lock:
            if message_id is None:
                self._sessions[session_id] = _SessionKeys(loaded=True, erased=True)
                return
            name = key_name(message_id)
            keys = self._entry(session_id)
            keys.keys.pop(name, None)
            keys.pending.discard(name)
            keys.gone.add(name)

    def _entry(self, session_id: UUID) -> _SessionKeys:
        keys = self._sessions.get(session_id)
        if keys is None:
            keys = self._sessions[session_id] = _SessionKeys()
            while len(self._sessions) > self.max_sessions:
                oldest, candidate = next(iter(self._sessions.items()))
                if candidate.pending:
                    break  # never drop a key before it is stored
                del self._sessions[oldest]
        else:
            self._sessions.move_to_end(session_id)
        return keys

    def _lookup(self, session_id: UUID, keys: _SessionKeys, name: str) -> bytes | None:
        if keys.erased or name in keys.gone:
            return None
        if keys.loaded:
            found = self.store.load(session_id, name)
        else:
            found = self.store.load(session_id)
            keys.loaded = True
        for found_name, key in found.items():
            if found_name not in keys.pending:
                keys.keys[found_name] = key
                keys.gone.discard(found_name)
        keys.suspect.discard(name)
        if name in keys.keys:
            return keys.keys[name]
        keys.gone.add(name)
        return None
