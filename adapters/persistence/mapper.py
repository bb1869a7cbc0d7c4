"""How events become bytes: pydantic models as JSON, with upcasting.

Plugged into the engine by configuration (`MAPPER_TOPIC`, `TRANSCODER_TOPIC`).
Event payloads are plain JSON (orjson), so a client's dict shaped like the
library's own `{"_type_": ..., "_data_": ...}` encoding is stored and read back
as the data it is, never reinterpreted. Session content is sealed on the way
in and opened on the way out (`adapters.persistence.sealing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from adapters.persistence.sealing import Sealer, header_of, is_sealed
from domain.base import AggregateSnapshot
from domain.sealing import ERASED, Sealed, put, stand_in


class OrjsonTranscoder(Transcoder):
    """Plain JSON bytes: no type tags, no special keys."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic domain events to stored events and back, upcasting old versions.

    With a `sealer` (set by the composition root), the user's content of session events and
    snapshots is sealed (`adapters.persistence.sealing`); other events stay plain JSON, and
    plain JSON is always read, so streams stored before sealing still load.
    """

    sealer: Sealer | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = self.plain_state(domain_event)
        topic = get_topic(type(domain_event))
        sealed = _sealed_fields(domain_event)
        data: bytes | None = None
        if sealed and self.sealer is not None:
            is_snapshot = isinstance(domain_event, AggregateSnapshot)
            data = self.sealer.seal(
                domain_event.originator_id,
                domain_event.originator_version,
                topic,
                state,
                sealed,
                fresh_session=domain_event.originator_version == 1 and not is_snapshot,
                existing_keys_only=is_snapshot,
            )
        if data is None:
            data = self.transcoder.encode(state)
            if self.compressor:
                data = self.compressor.compress(data)
            if self.cipher:
                data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=data,
        )

    def plain_state(self, domain_event: Any) -> dict[str, Any]:
        """The event's JSON state, unsealed (what bundles carry)."""
        state: dict[str, Any] = domain_event.model_dump(
            mode="json", exclude={"originator_id", "originator_version"}
        )
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return state

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        data = stored_event.state
        cls = resolve_topic(stored_event.topic)
        if is_sealed(data):
            if self.sealer is None:
                raise MapperDeserialisationError(
                    f"{stored_event.topic} is sealed and no keys are configured"
                )
            state = self.sealer.open(
                stored_event.originator_id,  # type: ignore[arg-type]
                stored_event.originator_version,
                stored_event.topic,
                data,
                lambda header: _sealed_fields_of(cls, header),
            )
        else:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            state = self.transcoder.decode(data)
        event = _constructed(cls, stored_event, state)
        if self.sealer is not None:
            self.sealer.observe(event)
        return event

    def to_state_event(self, stored_event: StoredEvent) -> Any:
        """The event as rebuilding its aggregate needs it: `to_domain_event`, except that
        a sealed event whose `apply` reads none of its sealed content
        (`applies_without_content`) is not opened, its sealed fields holding placeholders.
        A message's decryption and parsing is most of loading a session past its snapshot,
        and the session never reads the message."""
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        if not (getattr(cls, "applies_without_content", False) and is_sealed(data)):
            return self.to_domain_event(stored_event)
        state: dict[str, Any] = orjson.loads(header_of(data))
        for path, value in _stand_ins(cls):
            put(state, path, value)
        return _constructed(cls, stored_event, state)


_STAND_INS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _stand_ins(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each sealed path of an event class with its placeholder, made once per class and
    shared: validation copies what it keeps, and nothing reads them."""
    try:
        return _STAND_INS[cls]
    except KeyError:
        made = _STAND_INS[cls] = tuple(
            (path, stand_in(placeholder, ERASED))
            for spec in _sealed_fields_of(cls, {})
            for path, placeholder in spec.placeholders.items()
        )
        return made


def _constructed(cls: Any, stored_event: StoredEvent, state: dict[str, Any]) -> Any:
    """An instance of `cls` from its stored JSON state, upcast to the class's version."""
    version = state.pop("class_version", 1)
    target = getattr(cls, "class_version", 1)
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return cls(
        originator_id=stored_event.originator_id,
        originator_version=stored_event.originator_version,
        **state,
    )


_SEALED: dict[type, tuple[Sealed, ...]] = {}
"""What each event class declares sealed (snapshots are not kept: theirs vary)."""


def _sealed_fields(domain_event: Any) -> Sequence[Sealed]:
    cls = type(domain_event)
    try:
        return _SEALED[cls]
    except KeyError:
        pass
    if issubclass(cls, AggregateSnapshot):
        return _sealed_fields_of(cls, {"topic": domain_event.topic})
    sealed = _SEALED[cls] = tuple(_sealed_fields_of(cls, {}))
    return sealed


def _sealed_fields_of(cls: type, header: dict[str, Any]) -> Sequence[Sealed]:
    """What an event class (or, for a snapshot, its aggregate's class) declares sealed."""
    if issubclass(cls, AggregateSnapshot):
        topic = header.get("topic")
        if not isinstance(topic, str) or not topic:
            return ()
        return tuple(getattr(resolve_topic(topic), "snapshot_sealed", ()))
    return tuple(getattr(cls, "sealed", ()))
