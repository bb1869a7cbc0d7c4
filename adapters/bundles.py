"""Portable, verifiable session bundles: export to NDJSON, import with checks.

A bundle is one JSON object per line: a header, one line per event (its
session, version, topic, the stored event data, and a SHA-256 chained over the
previous event's), and a footer with the event count and a checksum over the
header and every event hash. Events travel as plain JSON: sealed content is
opened on export (an erased session exports its placeholders) and sealed again,
under the importing database's own keys, on import. Lines are canonical JSON, so any change to any
byte is refused on import, naming the first bad line. Sessions appear in
dependency order: with `with_sources`, the sessions a fork or merge reads its
history from come first. Import is idempotent by event (session, version) and
can give the bundle's session a new id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from domain.context import CommandContext
from domain.engine import Engine
from domain.errors import InvalidInputError, SessionNotFoundError
from domain.session import Session

if TYPE_CHECKING:
    from adapters.ledger_core import LedgerCore

FORMAT = "chatledger.bundle"
FORMAT_VERSION = 1


class BundleError(InvalidInputError):
    """A bundle that is malformed or fails its checksums (422, naming the first bad line)."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__("bundle", f"line {line}: {detail}")
        self.line = line


@dataclass(frozen=True)
class ImportResult:
    session_id: str
    """The bundle's (root) session, under its id here."""
    imported: int
    skipped: int
    """Events already stored with identical data (a repeated import)."""


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value)


def _event_hash(previous: str, session_id: str, version: int, topic: str, state: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{previous}\n{session_id}\n{version}\n{topic}\n".encode())
    digest.update(state)
    return digest.hexdigest()


def export_bundle(
    ledger: LedgerCore, tenant_id: str, session_id: UUID, *, with_sources: bool = False
) -> Iterator[bytes]:
    """The bundle of one session (and its sources), line by line, each ending in a newline.

    The session and its sources are checked now (an unknown or foreign one raises here);
    the lines are read as they are consumed.
    """
    order = _dependency_order(ledger, tenant_id, session_id, with_sources)
    return _lines(ledger, session_id, order)


def _lines(ledger: LedgerCore, session_id: UUID, order: list[UUID]) -> Iterator[bytes]:
    header = _line(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "session_id": str(session_id),
            "sessions": [str(s) for s in order],
        }
    )
    bundle = hashlib.sha256(header)
    yield header + b"\n"
    previous, count = "", 0
    for sid in order:
        for stored in ledger.engine.recorder.select_events(sid):
            topic, state = stored.topic, _plain(ledger, stored)
            previous = _event_hash(previous, str(sid), stored.originator_version, topic, state)
            bundle.update(previous.encode())
            count += 1
            yield (
                _line(
                    {
                        "session_id": str(sid),
                        "version": stored.originator_version,
                        "topic": topic,
                        "data": orjson.loads(state),
                        "sha256": previous,
                    }
                )
                + b"\n"
            )
    yield _line({"events": count, "bundle_sha256": bundle.hexdigest()}) + b"\n"


def _dependency_order(
    ledger: LedgerCore, tenant_id: str, session_id: UUID, with_sources: bool
) -> list[UUID]:
    ledger.engine.get_state(tenant_id, session_id)  # tenant check (deleted sessions export too)
    order: list[UUID] = []

    def visit(sid: UUID) -> None:
        if sid in order:
            return
        if with_sources:
            first = ledger.engine.list_events(tenant_id, sid, limit=1)[0]
            sources: list[str] = []
            if isinstance(first, Session.Forked):
                sources = [first.source_id]
            elif isinstance(first, Session.Merged):
                sources = [s.session_id for s in first.sources]
            for source in sources:
                visit(UUID(source))
        order.append(sid)

    visit(session_id)
    return order


@dataclass(frozen=True)
class _Event:
    line: int
    session_id: str
    version: int
    topic: str
    state: bytes


def verify_bundle(data: bytes) -> tuple[dict[str, Any], list[_Event]]:
    """The header and events of a bundle whose every line and checksum holds."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) < 2:
        raise BundleError(len(lines) + 1, "a bundle has a header, events and a footer")
    parsed = [_parse(number, raw) for number, raw in enumerate(lines, start=1)]
    header, footer = parsed[0], parsed[-1]
    if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise BundleError(1, f"not a {FORMAT} version {FORMAT_VERSION} header")
    bundle = hashlib.sha256(lines[0])
    previous = ""
    events: list[_Event] = []
    for number, entry in enumerate(parsed[1:-1], start=2):
        try:
            sid, version, topic = (
                str(entry["session_id"]),
                int(entry["version"]),
                str(entry["topic"]),
            )
            state = orjson.dumps(entry["data"])
            claimed = entry["sha256"]
        except (KeyError, TypeError, ValueError):
            raise BundleError(number, "not an event line") from None
        previous = _event_hash(previous, sid, version, topic, state)
        if claimed != previous:
            raise BundleError(number, f"checksum mismatch (session {sid}, version {version})")
        bundle.update(previous.encode())
        events.append(_Event(number, sid, version, topic, state))
    if footer.get("events") != len(events) or footer.get("bundle_sha256") != bundle.hexdigest():
        raise BundleError(len(lines), "the bundle checksum or event count does not match")
    return header, events


def _parse(number: int, raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BundleError(number, "not JSON") from None
    if not isinstance(value, dict) or orjson.dumps(value) != raw:
        raise BundleError(number, "not a canonical bundle line")
    return value


def import_bundle(
    ledger: LedgerCore, ctx: CommandContext, data: bytes, *, new_id: UUID | None = None
) -> ImportResult:
    """Store a verified bundle's events (skipping those already stored identically)."""
    header, events = verify_bundle(data)
    root = str(header["session_id"])
    renamed = {root: str(new_id)} if new_id else {}
    present = {s for s in header.get("sessions", [])}
    imported = skipped = 0
    engine = ledger.engine
    for sid in dict.fromkeys(e.session_id for e in events):
        target = renamed.get(sid, sid)
        batch = [e for e in events if e.session_id == sid]
        events_of_target = engine.recorder.select_events(UUID(target))
        if events_of_target:  # another tenant's id is not found (before anything is opened)
            engine.get_state(ctx.tenant_id, UUID(target))
        stored = {s.originator_version: _plain(ledger, s) for s in events_of_target}
        fresh: list[StoredEvent] = []
        for event in batch:
            state = _retenanted(event, ctx.tenant_id)
            if event.version in stored:
                if stored[event.version] != state:
                    raise BundleError(
                        event.line,
                        f"session {target} version {event.version} is stored with other data",
                    )
                skipped += 1
                continue
            fresh.append(StoredEvent(UUID(target), event.version, event.topic, state))
        if not fresh:
            continue
        domain_events = [engine.mapper.to_domain_event(s) for s in fresh]
        _check_messages(engine, domain_events)
        _check_sources(ledger, ctx.tenant_id, domain_events, present | set(renamed.values()))
        sealed = [engine.mapper.to_stored_event(e) for e in domain_events]  # under our keys
        engine.recorder.insert_events(sealed, recorded_events=domain_events)
        imported += len(fresh)
        if fresh[-1].originator_version >= 100 and engine.snapshots is not None:
            engine.take_snapshot(UUID(target))  # so loading it does not replay the whole stream
    ledger.catch_up()
    return ImportResult(session_id=renamed.get(root, root), imported=imported, skipped=skipped)


def _check_messages(engine: Engine, events: list[Any]) -> None:
    """Refuse a bundle holding a message the engine would not append (too large, say)."""
    for event in events:
        if isinstance(event, Session.MessageAppended):
            field = f"bundle: session {event.originator_id} version {event.originator_version}"
            engine.checked_message(event.message, field)


def _plain(ledger: LedgerCore, stored: StoredEvent) -> bytes:
    """A stored event's data as plain JSON: sealed content opened (or its placeholders)."""
    mapper: Any = ledger.engine.mapper
    return orjson.dumps(mapper.plain_state(mapper.to_domain_event(stored)))


def _retenanted(event: _Event, tenant_id: str) -> bytes:
    """The event's data for this tenant (unchanged when the bundle is from the same tenant)."""
    data = orjson.loads(event.state)
    if data.get("tenant_id") == tenant_id:
        return event.state
    data["tenant_id"] = tenant_id
    return orjson.dumps(data)


def _check_sources(
    ledger: LedgerCore, tenant_id: str, events: list[Any], in_bundle: set[str]
) -> None:
    for event in events:
        sources: list[str] = []
        if isinstance(event, Session.Forked):
            sources = [event.source_id]
        elif isinstance(event, Session.Merged):
            sources = [s.session_id for s in event.sources]
        for source in sources:
            if source in in_bundle:
                continue
            try:
                ledger.engine.get_state(tenant_id, UUID(source))
            except SessionNotFoundError:
                raise InvalidInputError(
                    "bundle",
                    f"session {event.originator_id} reads its history from {source}, which is"
                    " neither here nor in the bundle (export it with its sources)",
                ) from None
