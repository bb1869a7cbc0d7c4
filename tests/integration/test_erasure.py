"""Erasure and redaction on SQLite and PostgreSQL: canaries planted everywhere a session
holds content are searched for in the database's bytes (the SQLite file, its WAL and
shared memory; a `pg_dump` of the test schema), exports and logs, before and after."""

from __future__ import annotations

import contextlib
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from adapters.llm.offline import ScriptedChatModel, ScriptedReply
from adapters.master_key import MasterKeyError
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.errors import (
    InvalidInputError,
    MessageNotFoundError,
    ProviderError,
    SessionDeletedError,
)
from domain.message import Message
from domain.sealing import ERASED, REDACTED
from domain.session import Session
from projections.session_list import SessionQuery

CTX = CommandContext(tenant_id="t1", actor="admin")
CANARY = "zqxcanary"
"""Every planted string starts with this, so one search finds them all."""


@dataclass
class Planted:
    session_id: str
    fork_id: str
    fork_message_id: str
    message_ids: list[str]
    """The source's history, in order: the user's message, the reply, a second message."""


def database_bytes(ledger: Ledger, database_url: str) -> bytes:
    """Everything the database holds: the SQLite files, or a dump of the test schema."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(
            p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query)["schema"][0]
    dump = subprocess.run(
        ["pg_dump", f"--schema={schema}", parts._replace(query="").geturl()],
        capture_output=True,
        check=True,
    )
    return dump.stdout


def stored_bytes(ledger: Ledger, database_url: str) -> dict[tuple[str, str, int], bytes]:
    """Every stored event and snapshot row's state, by table, stream and version."""
    rows: dict[tuple[str, str, int], bytes] = {}
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            for table in ("stored_events", "stored_snapshots"):
                for sid, version, state in db.execute(
                    f"SELECT originator_id, originator_version, state FROM {table}"
                ):
                    rows[(table, sid, version)] = bytes(state)
        return rows
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query)["schema"][0]
    with psycopg.connect(parts._replace(query="").geturl()) as db:
        for table in ("chatledger_events", "chatledger_snapshots"):
            for sid, version, state in db.execute(
                f'SELECT originator_id, originator_version, state FROM "{schema}".{table}'
            ):
                rows[(table, str(sid), version)] = bytes(state)
    return rows


def plant(ledger: Ledger) -> Planted:
    """A session with canaries in every kind of content, a turn, a failure, and a fork."""
    session = ledger.create_session(
        CTX,
        title=f"{CANARY}-title",
        user_id="alice",
        situation=f"{CANARY}-situation",
        context={"where": f"{CANARY}-context"},
        metadata={"team": f"{CANARY}-metadata"},
    )
    sid = str(session.id)
    ledger.append_messages(
        CTX,
        sid,
        [
            Message.user(
                f"{CANARY}-message", name=f"{CANARY}-name", metadata={"m": f"{CANARY}-msgmeta"}
            )
        ],
    )
    ledger.register_model(
        "script",
        ScriptedChatModel(
            [
                ScriptedReply(text=f"{CANARY}-reply words", output_tokens=3),
                ScriptedReply(text=f"{CANARY}-unremembered"),
                ScriptedReply(
                    text=f"{CANARY}-partial more", fail="overloaded", fail_after_chunks=1
                ),
            ]
        ),
    )
    ledger.chat(CTX, sid, f"{CANARY}-question", provider="script")
    ledger.chat(CTX, sid, f"{CANARY}-aside", provider="script", remember=False)
    with contextlib.suppress(ProviderError):  # the failure is recorded as `CompletionFailed`
        ledger.chat(CTX, sid, f"{CANARY}-failing", provider="script")
    ledger.record_suggestions(CTX, session.id, "c1", [f"{CANARY}-suggestion"])
    ledger.update_session(
        CTX,
        sid,
        SessionUpdate(
            title=f"{CANARY}-title2",
            situation=f"{CANARY}-situation2",
            metadata={"more": f"{CANARY}-metadata2"},
        ),
    )
    history = ledger.list_messages("t1", sid).data
    fork = ledger.fork_session(
        CTX, sid, title="fork", metadata={"kind": "fork"}, situation="the fork's own"
    )
    appended = ledger.append_messages(CTX, str(fork.id), [Message.user("the fork's own words")])
    return Planted(
        session_id=sid,
        fork_id=str(fork.id),
        fork_message_id=appended.messages[0].message.id or "",
        message_ids=[e.message.id or "" for e in history],
    )


def test_sealed_events_and_snapshots_hold_no_plaintext_while_views_do(
    ledger: Ledger, database_url: str
) -> None:
    planted = plant(ledger)
    ledger.engine.take_snapshot(UUID(planted.session_id))

    stored = stored_bytes(ledger, database_url)

    assert any(table.endswith("snapshots") for table, _, _ in stored)
    assert not [key for key, state in stored.items() if CANARY.encode() in state]
    assert CANARY.encode() in database_bytes(ledger, database_url)  # the views, until erased


def test_erasing_a_session_leaves_no_canary_in_the_database_exports_or_logs(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planted = plant(ledger)
    before = stored_bytes(ledger, database_url)

    erased = ledger.erase_session(CTX, planted.session_id, reason="gdpr-art-17")

    assert erased.is_erased and erased.is_deleted and erased.title == ERASED
    assert CANARY.encode() not in database_bytes(ledger, database_url)
    export = b"".join(ledger.export_session("t1", planted.session_id))
    assert CANARY.encode() not in export and ERASED.encode() in export
    assert CANARY not in caplog.text
    after = stored_bytes(ledger, database_url)
    assert all(after[key] == state for key, state in before.items())  # no stored byte changed


def test_an_erased_session_reads_as_placeholders_at_every_version(
    ledger: Ledger, database_url: str
) -> None:
    planted = plant(ledger)
    ledger.erase_session(CTX, planted.session_id)

    with pytest.raises(SessionDeletedError):
        ledger.get_session("t1", planted.session_id)
    for version in (1, 3, 6):
        past = ledger.get_state("t1", planted.session_id, version=version)
        assert (past.session.title, past.session.situation) == (ERASED, ERASED)
        assert past.session.metadata == {} and past.session.context == {}
        assert all(entry.message.text == ERASED for entry in past.messages)
    events = ledger.list_events("t1", planted.session_id, limit=100).data
    assert CANARY not in "".join(e.model_dump_json() for e in events)
    erasure = events[-1]
    assert isinstance(erasure, Session.ContentErased) and erasure.reason == "erasure-request"
    assert (erasure.actor, erasure.tenant_id) == ("admin", "t1")
    listed = ledger.list_sessions(SessionQuery("t1", include_deleted=True)).data
    row = next(s for s in listed if s.id == planted.session_id)
    assert (row.title, row.metadata, row.status) == (ERASED, {}, "erased")


def test_rebuilt_views_of_an_erased_session_equal_the_live_ones(
    ledger: Ledger, database_url: str
) -> None:
    planted = plant(ledger)
    ledger.erase_session(CTX, planted.session_id)
    query = SessionQuery("t1", include_deleted=True)

    def views() -> tuple[object, ...]:
        return (
            ledger.list_sessions(query).data,
            ledger.get_state("t1", planted.fork_id).messages,
            ledger.views.completions.list_completions("t1", planted.session_id),
        )

    live = views()
    for name in ("session_list", "history", "completions"):
        ledger.rebuild_projection(name)

    assert views() == live
    assert all(row.request_hash is None for row in live[2])  # type: ignore[attr-defined]
    assert CANARY.encode() not in database_bytes(ledger, database_url)


def test_a_fork_keeps_its_own_content_and_loses_what_it_inherited(ledger: Ledger) -> None:
    planted = plant(ledger)
    ledger.erase_session(CTX, planted.session_id)

    fork = ledger.get_state("t1", planted.fork_id)

    assert fork.session.title == "fork" and fork.session.situation == "the fork's own"
    *inherited, own = fork.messages
    assert [e.message.text for e in inherited] == [ERASED] * len(planted.message_ids)
    assert own.message.text == "the fork's own words"


def test_redacting_a_message_removes_only_its_content(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planted = plant(ledger)
    reply_id = planted.message_ids[2]  # the scripted reply
    reply_text = ledger.list_messages("t1", planted.session_id).data[2].message.text
    assert reply_text.startswith(f"{CANARY}-reply")

    ledger.redact_message(CTX, planted.fork_id, reply_id, reason="moderation")

    texts = [e.message.text for e in ledger.list_messages("t1", planted.session_id).data]
    assert texts == [f"{CANARY}-message", f"{CANARY}-question", REDACTED]
    fork_texts = [e.message.text for e in ledger.get_state("t1", planted.fork_id).messages]
    assert fork_texts[2] == REDACTED and fork_texts[0] == f"{CANARY}-message"
    recorded = [
        e
        for e in ledger.list_events("t1", planted.session_id, limit=100).data
        if isinstance(e, Session.CompletionRecorded) and e.reply_message_id == reply_id
    ]
    assert [e.reply.text for e in recorded] == [REDACTED]
    assert b"-reply words" not in database_bytes(ledger, database_url)
    assert b"-reply words" not in b"".join(ledger.export_session("t1", planted.session_id))
    assert "-reply words" not in caplog.text
    for name in ("history",):
        ledger.rebuild_projection(name)
    assert [e.message.text for e in ledger.list_messages("t1", planted.session_id).data] == texts


def test_erasing_twice_or_a_deleted_session_works(ledger: Ledger) -> None:
    planted = plant(ledger)
    ledger.delete_session(CTX, planted.session_id)

    first = ledger.erase_session(CTX, planted.session_id)
    second = ledger.erase_session(CTX, planted.session_id)

    assert first.is_erased and second.version == first.version
    assert ledger.get_state("t1", planted.session_id, version=1).session.title == ERASED


def test_reasons_in_prose_and_unknown_messages_are_refused(ledger: Ledger) -> None:
    planted = plant(ledger)

    with pytest.raises(InvalidInputError):
        ledger.erase_session(CTX, planted.session_id, reason="Alice asked on 3 May")
    with pytest.raises(MessageNotFoundError):
        ledger.redact_message(CTX, planted.session_id, "no-such-message")
    assert ledger.get_session("t1", planted.session_id).title == f"{CANARY}-title2"


def test_a_database_without_its_master_key_opens_nothing(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = plant(ledger)
    monkeypatch.setenv("CHATLEDGER_MASTER_KEY", "A" * 43 + "=")

    other = open_ledger(database_url=database_url)
    try:
        with pytest.raises(MasterKeyError):
            other.list_events("t1", planted.session_id)
    finally:
        other.close()


def test_a_message_id_reused_by_a_client_shares_its_key_across_processes(
    ledger: Ledger, database_url: str
) -> None:
    session = ledger.create_session(CTX)
    reused = Message.user("first words", id="client-chosen-id")
    ledger.chat(CTX, session.id, reused)
    other = open_ledger(database_url=database_url)  # another process: nothing cached
    try:
        other.chat(CTX, session.id, Message.user("second words", id="client-chosen-id"))
        ledger.redact_message(CTX, session.id, "client-chosen-id")

        texts = [e.message.text for e in other.list_messages("t1", session.id).data]
    finally:
        other.close()
    assert texts[0] == texts[2] == REDACTED and texts[1] != REDACTED


def test_an_erased_session_exports_and_imports_as_its_placeholders(
    ledger: Ledger, tmp_path: Path
) -> None:
    planted = plant(ledger)
    ledger.erase_session(CTX, planted.session_id)
    bundle = b"".join(ledger.export_session("t1", planted.session_id))

    elsewhere = open_ledger(database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    try:
        elsewhere.import_bundle(CTX, bundle)
        again = b"".join(elsewhere.export_session("t1", planted.session_id))
        keys = elsewhere.engine.recorder.keyring.store.load(UUID(planted.session_id))
    finally:
        elsewhere.close()
    assert again == bundle and keys == {}


def test_a_redacted_message_id_is_never_used_again(ledger: Ledger) -> None:
    session = ledger.create_session(CTX)
    ledger.chat(CTX, session.id, Message.user("zqxcanary first", id="client-chosen-id"))
    ledger.redact_message(CTX, session.id, "client-chosen-id")

    with pytest.raises(InvalidInputError, match="was redacted"):
        ledger.chat(CTX, session.id, Message.user("second words", id="client-chosen-id"))

    texts = [e.message.text for e in ledger.list_messages("t1", session.id).data]
    assert texts[0] == REDACTED and len(texts) == 2  # the question and its reply; no new turn
    assert ledger.verify().intact
