"""Export and import: portable bundles that round-trip byte for byte and refuse tampering."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.bootstrap import open_ledger
from adapters.bundles import BundleError, verify_bundle
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.errors import InvalidInputError
from domain.message import Message

CTX = CommandContext(tenant_id="t1", actor="alice")


@pytest.fixture
def source(sqlite_url: str) -> Iterator[Ledger]:
    ledger = open_ledger(Settings(database_url=sqlite_url))
    yield ledger
    ledger.close()


@pytest.fixture
def target(postgres_url: str) -> Iterator[Ledger]:
    ledger = open_ledger(Settings(database_url=postgres_url))
    yield ledger
    ledger.close()


def conversation(ledger: Ledger) -> tuple[str, str]:
    session = ledger.create_session(
        CTX, title="trip", metadata={"_type_": "datetime_iso", "_data_": "not a date"}
    )
    ledger.append_messages(CTX, session.id, [Message.user("hi"), Message.assistant("hello")])
    ledger.append_messages(CTX, session.id, [Message.user("more")])
    fork = ledger.fork_session(CTX, session.id, at_version=3)
    ledger.append_messages(CTX, fork.id, [Message.user("forked")])
    return str(session.id), str(fork.id)


def bundle(ledger: Ledger, session_id: str, **options: bool) -> bytes:
    return b"".join(ledger.export_session("t1", session_id, **options))


@pytest.mark.postgres
def test_a_bundle_round_trips_sqlite_to_postgres_and_back_byte_for_byte(
    source: Ledger, target: Ledger, tmp_path: object
) -> None:
    _, fork = conversation(source)
    first = bundle(source, fork, with_sources=True)

    result = target.import_bundle(CTX, first)
    second = bundle(target, fork, with_sources=True)
    back = open_ledger(Settings(database_url=f"sqlite:///{tmp_path}/back.db"))
    try:
        back.import_bundle(CTX, second)
        third = bundle(back, fork, with_sources=True)
    finally:
        back.close()

    assert result.imported == 6 and second == first and third == first
    texts = [e.message.text for e in target.list_messages("t1", fork).data]
    assert texts == ["hi", "hello", "forked"]


def test_importing_twice_changes_nothing(source: Ledger, sqlite_url: str, tmp_path: object) -> None:
    session, _ = conversation(source)
    data = bundle(source, session)
    other = open_ledger(Settings(database_url=f"sqlite:///{tmp_path}/other.db"))
    try:
        first = other.import_bundle(CTX, data)
        again = other.import_bundle(CTX, data)
        assert (first.imported, first.skipped) == (4, 0)
        assert (again.imported, again.skipped) == (0, 4)
        assert bundle(other, session) == data
    finally:
        other.close()


def test_a_bundle_can_be_imported_under_a_new_id(source: Ledger) -> None:
    session, _ = conversation(source)
    new_id = uuid.uuid4()

    result = source.import_bundle(CTX, bundle(source, session), new_id=new_id)

    assert result.session_id == str(new_id) and result.imported == 4
    copied = [e.message.text for e in source.list_messages("t1", new_id).data]
    assert copied == ["hi", "hello", "more"]


def test_a_fork_without_its_sources_is_refused_where_they_are_missing(
    source: Ledger, tmp_path: object
) -> None:
    _, fork = conversation(source)
    lone = bundle(source, fork)
    other = open_ledger(Settings(database_url=f"sqlite:///{tmp_path}/other.db"))
    try:
        with pytest.raises(InvalidInputError, match="export it with its sources"):
            other.import_bundle(CTX, lone)
    finally:
        other.close()


def test_every_single_byte_change_to_a_bundle_is_refused(source: Ledger) -> None:
    session = source.create_session(CTX, title="t")
    source.append_messages(CTX, session.id, [Message.user("hi")])
    data = bundle(source, str(session.id))
    verify_bundle(data)

    for position in range(len(data)):
        for replacement in {
            data[position] ^ 0x01,
            ord("x") if data[position] != ord("x") else ord("y"),
        }:
            tampered = data[:position] + bytes([replacement]) + data[position + 1 :]
            with pytest.raises(BundleError):
                verify_bundle(tampered)


def test_a_refused_bundle_names_the_first_bad_event_and_writes_nothing(
    source: Ledger, tmp_path: object
) -> None:
    session, _ = conversation(source)
    lines = bundle(source, session).split(b"\n")
    lines[4] = lines[4].replace(b"more", b"MORE")
    other = open_ledger(Settings(database_url=f"sqlite:///{tmp_path}/other.db"))
    try:
        with pytest.raises(BundleError) as raised:
            other.import_bundle(CTX, b"\n".join(lines))
        assert raised.value.line == 5 and "checksum mismatch" in raised.value.detail
        assert other.engine.recorder.max_notification_id() in (None, 0)
    finally:
        other.close()
