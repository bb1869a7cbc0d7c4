"""The hook by which event recorders store and destroy data keys in their own transaction.

New keys are inserted in the transaction that records the first events sealed
with them; `Session.ContentErased` deletes a session's keys and
`Session.MessageRedacted` one message's, in the transaction that records them.
Either way it is atomic with the events. Once the transaction is over, the
keyring learns whether its pending keys were stored, and forgets destroyed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

from adapters.persistence.key_store import key_name
from adapters.persistence.keyring import KeyRef, Keyring
from adapters.persistence.sealing import key_refs
from domain.session import Session


class KeyRecording:
    """Mixin for application recorders: keep `session_keys` in step with the events."""

    keyring: Keyring | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if self.keyring is None:
            return super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        refs = _refs(stored_events)
        try:
            # The keys' references travel with the insert, so the recorder's writes below
            # need not parse the sealed events again.
            ids = super().insert_events(stored_events, **{**kwargs, _KEY_REFS: refs})  # type: ignore[misc]
        except BaseException:
            self.keyring.settle(refs, stored=False)
            raise
        self.keyring.settle(refs, stored=True)
        erasures = [e for e in kwargs.get("recorded_events") or () if _erases(e)]
        for event in erasures:
            self.keyring.forget(event.originator_id, getattr(event, "message_id", None))
        if erasures:
            self.after_erasure()
        return ids

    def record_keys(
        self, cursor: Any, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> None:
        """Insert the new keys these events use; destroy those their erasures name."""
        keyring = self.keyring
        if keyring is None:
            return
        keyring.store.insert(cursor, keyring.pending(_refs_of(stored_events, kwargs)))
        self.destroy_keys(cursor, kwargs)

    def new_key_rows(
        self, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> list[tuple[str, str, bytes]]:
        """The `session_keys` rows of the new keys these events use, for the recorder to
        insert itself (then `destroy_keys`, as `record_keys` does)."""
        keyring = self.keyring
        if keyring is None:
            return []
        return keyring.store.rows(keyring.pending(_refs_of(stored_events, kwargs)))

    def destroy_keys(self, cursor: Any, kwargs: dict[str, Any]) -> None:
        """Destroy the keys the recorded erasures and redactions name."""
        keyring = self.keyring
        if keyring is None:
            return
        for event in kwargs.get("recorded_events") or ():
            if isinstance(event, Session.ContentErased):
                keyring.store.destroy(cursor, event.originator_id)
            elif isinstance(event, Session.MessageRedacted):
                keyring.store.destroy(cursor, event.originator_id, key_name(event.message_id))

    def after_erasure(self) -> None:
        """Called once a transaction that destroyed keys has committed."""


_KEY_REFS = "key_refs"
"""The recorder's keyword for the references `insert_events` already read."""


def _refs_of(stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[KeyRef]:
    """The keys these events were sealed with: as `insert_events` passed them, else read."""
    refs = kwargs.get(_KEY_REFS)
    return refs if isinstance(refs, list) else _refs(stored_events)


def _refs(stored_events: Sequence[StoredEvent]) -> list[KeyRef]:
    return [
        ref
        for stored in stored_events
        for ref in key_refs(stored.originator_id, stored.state)  # type: ignore[arg-type]
    ]


def _erases(event: Any) -> bool:
    return isinstance(event, Session.ContentErased | Session.MessageRedacted)
