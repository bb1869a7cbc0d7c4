"""The PostgreSQL recorder writes an append with one function call, fed binary arrays.

`chatledger_record_events` is created with the tables, so a database created by an
earlier version (which had only `chatledger_insert_events`) gains it when opened;
its array parameters read back on the server exactly as sent. It moves the positions
of the projections the inline projector names; those it does not name are moved in
`apply_inline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from adapters.bootstrap import open_ledger
from adapters.persistence.pg_arrays import BigintArray, ByteaArray, TextArray, UuidArray
from adapters.settings import Settings, parse_database_url
from domain.context import CommandContext
from domain.message import Message
from tests.support.tampering import Tamper

CTX = CommandContext(tenant_id="t1", actor="someone")


class NamelessProjector:
    """The runner, naming no projection the recorder may move with its insert."""

    names: tuple[str, ...] = ()

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def apply_inline(
        self, cursor: Any, events: Sequence[Any], ids: Sequence[int], *, moved: Any = None
    ) -> None:
        self.runner.apply_inline(cursor, events, ids, moved=moved)


pytestmark = pytest.mark.postgres


def test_a_database_without_the_record_function_gains_it_when_opened(postgres_url: str) -> None:
    schema = parse_database_url(postgres_url).schema
    ledger = open_ledger(Settings(database_url=postgres_url))
    session_id = ledger.create_session(CTX, title="older").id
    ledger.append_messages(CTX, session_id, [Message.user("one")])
    ledger.close()
    tamper = Tamper(postgres_url)
    try:
        # As an earlier version left the database: its own insert function, not this one.
        tamper.execute(f'DROP FUNCTION "{schema}".chatledger_record_events')

        reopened = open_ledger(Settings(database_url=postgres_url))
        try:
            # The engine's own command: no read-your-writes catch-up behind it.
            result = reopened.engine.append_messages(
                CTX, session_id, [Message.user("two"), Message.user("three")]
            )
            assert reopened.runner.applied_inline(result.position)
            assert [s.lag for s in reopened.projection_status()] == [0] * 6
            texts = [e.message.text for e in reopened.list_messages("t1", session_id).data]
            assert texts == ["one", "two", "three"]
            report = reopened.verify()
            assert report.intact and report.events == 4
        finally:
            reopened.close()
        assert tamper.execute(f'SELECT COUNT(*) FROM "{schema}".session_keys')[0][0] == 4
    finally:
        tamper.close()


def test_array_parameters_read_back_as_sent(postgres_server_url: str) -> None:
    ids = [uuid4(), UUID(int=0), uuid4()]
    numbers = [1, -2, 2**62, 0]
    texts = ["plain", "", "ünïcødé ✓", 'quote " and {brace}, comma']
    blobs = [b"\x00\x01\xff", b"", bytes(range(256)) * 10]
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT %b, %b, %b, %b, %b, %b, %b, %b, pg_typeof(%b)::text",
            (
                UuidArray.of(ids),
                BigintArray.of(numbers),
                TextArray.of(texts),
                ByteaArray.of(blobs),
                UuidArray.of([]),
                BigintArray.of([]),
                TextArray.of(["one"]),
                ByteaArray.of([b"one"]),
                ByteaArray.of([]),
            ),
        ).fetchone()
    assert row == (ids, numbers, texts, blobs, [], [], ["one"], [b"one"], "bytea[]")


def test_an_inline_projector_without_names_moves_the_positions_itself(postgres_url: str) -> None:
    ledger = open_ledger(Settings(database_url=postgres_url))
    try:
        recorder = ledger.engine.recorder
        recorder.inline = NamelessProjector(recorder.inline)
        session_id = ledger.create_session(CTX, title="nameless").id
        result = ledger.engine.append_messages(
            CTX, session_id, [Message.user("one"), Message.user("two")]
        )

        assert ledger.runner.applied_inline(result.position)
        assert [s.lag for s in ledger.projection_status()] == [0] * 6
        texts = [e.message.text for e in ledger.list_messages("t1", session_id).data]
        assert texts == ["one", "two"]
    finally:
        ledger.close()


def test_text_is_sent_in_the_connections_client_encoding(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")  # the server reads text parameters in it
    schema = parse_database_url(postgres_url).schema
    tenant = CommandContext(tenant_id="tenänt", actor="someone")
    ledger = open_ledger(Settings(database_url=postgres_url))
    try:
        session_id = ledger.create_session(tenant, title="encoded").id
        ledger.append_messages(tenant, session_id, [Message.user("ünïcødé")])
        report = ledger.verify()
    finally:
        ledger.close()
    tamper = Tamper(postgres_url)
    try:
        tenants = tamper.execute(f'SELECT DISTINCT tenant_id FROM "{schema}".event_hashes')
    finally:
        tamper.close()
    assert report.intact and report.events == 2
    assert tenants == [("tenänt",)]
