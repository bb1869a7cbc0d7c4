"""How events become bytes: pydantic models as JSON, with upcasting.

Plugged into the engine by configuration (`MAPPER_TOPIC`, `TRANSCODER_TOPIC`).
Event payloads are plain JSON (orjson), so a client's dict shaped like the
library's own `{"_type_": ..., "_data_": ...}` encoding is stored and read back
as the data it is, never reinterpreted.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic


class OrjsonTranscoder(Transcoder):
    """Plain JSON bytes: no type tags, no special keys."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic domain events to stored events and back, upcasting old versions."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = domain_event.model_dump(
            mode="json", exclude={"originator_id", "originator_version"}
        )
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state = self.transcoder.decode(data)
        cls = resolve_topic(stored_event.topic)
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
