"""Tampering made directly in the database is found by `verify`, which names the event.

One log is built per backend (sessions in two tenants, agents, a fork, a merge, a
cleared and a deleted session, one long stream) and a digest of it is kept. Each
case edits rows with plain SQL (`tests.support.tampering`), checks the verdict and
the (tenant, stream, version) it names, and undoes the edit; the untouched log
verifies intact before and after. Truncation and rewrites with recomputed hashes
pass the chain alone (the documented limit) and fail against the digest.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import open_ledger
from adapters.integrity import VerifyReport
from adapters.ledger import Ledger
from adapters.settings import Settings
from domain.agent import AgentFields
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.message import Message
from tests.support.tampering import Tamper, Undo, undo_all

T1 = CommandContext(tenant_id="t1", actor="alice")
T2 = CommandContext(tenant_id="t2", actor="bob")
LONG_STREAM_EVENTS = 25
SINGLE_BYTE_EDITS = 100
STRUCTURAL_CASES = 20


@dataclass
class Log:
    ledger: Ledger
    tamper: Tamper
    streams: dict[str, tuple[str, int]]
    """Every stream's tenant and length."""
    digest: dict[str, Any]

    def verify(self, **options: Any) -> VerifyReport:
        return self.ledger.verify(**options)

    def pick(self, rng: random.Random, *, min_length: int = 1) -> tuple[str, str, int]:
        """A random stream at least `min_length` long: its id, tenant and length."""
        candidates = sorted(s for s, (_, n) in self.streams.items() if n >= min_length)
        stream = rng.choice(candidates)
        tenant, length = self.streams[stream]
        return stream, tenant, length


def build(ledger: Ledger) -> None:
    agent = ledger.create_agent(T1, AgentFields(name="helper", provider="offline"))
    ledger.update_agent(T1, agent.id, AgentFields(instructions="Be brief."))
    ledger.create_agent(T2, AgentFields(name="other", provider="offline"))
    sessions = []
    for i, ctx in enumerate([T1] * 8 + [T2] * 4):
        session = ledger.create_session(ctx, title=f"s{i}", metadata={"i": i})
        for turn in range(3):
            ledger.append_messages(
                ctx, session.id, [Message.user(f"q{i}.{turn}"), Message.assistant("a")]
            )
        ledger.append_messages(ctx, session.id, [Message.user("ünïcødé ✓ " * (i + 1))])
        ledger.update_session(ctx, session.id, SessionUpdate(title=f"s{i}!"))
        sessions.append(session.id)
    fork = ledger.fork_session(T1, sessions[0], at_version=3)
    ledger.append_messages(T1, fork.id, [Message.user("forked")])
    ledger.merge_sessions(T1, [sessions[1], sessions[2]], title="merged")
    ledger.clear_history(T1, sessions[3])
    ledger.delete_session(T2, sessions[11])
    long = ledger.create_session(T1, title="long")
    for n in range(LONG_STREAM_EVENTS - 1):
        ledger.append_messages(T1, long.id, [Message.user(f"m{n}")])


def _postgres_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server: str = request.getfixturevalue("postgres_server_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield f"{server}?schema={schema}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    """One built log per backend, shared by this module's tests (each undoes its edits)."""
    directory = tmp_path_factory.mktemp(request.param)
    urls = (
        iter([f"sqlite:///{directory / 'chatledger.db'}"])
        if request.param == "sqlite"
        else _postgres_schema_url(request)
    )
    url = next(urls)
    ledger = open_ledger(Settings(database_url=url, secrets_dir=str(directory / "secrets")))
    build(ledger)
    tamper = Tamper(url)
    try:
        yield Log(ledger, tamper, tamper.streams(), ledger.digest())
    finally:
        tamper.close()
        ledger.close()
        next(urls, None)


def named(report: VerifyReport) -> set[tuple[str, int | None]]:
    return {(f.stream_id, f.version) for f in report.failures}


def assert_names(log: Log, undo: Undo, stream: str, version: int, **options: Any) -> VerifyReport:
    """Verify: tampered, naming (stream, version); then undo the edit."""
    try:
        report = log.verify(**options)
        assert not report.intact
        assert (stream, version) in named(report), report.failures
        assert report.verdict().startswith("tampered: ")
        return report
    finally:
        undo()


def test_the_untouched_log_verifies_intact_whole_per_tenant_and_against_its_digest(
    log: Log,
) -> None:
    whole = log.verify()
    assert whole.intact, whole.failures
    assert whole.streams == len(log.streams)
    assert whole.events == sum(n for _, n in log.streams.values())
    assert whole.events > 120  # F tier: the plan's 10,000 are the nightly run's

    t1, t2 = log.verify(tenant_id="t1"), log.verify(tenant_id="t2")
    assert t1.intact and t2.intact
    assert t1.events + t2.events == whole.events
    assert log.verify(tenant_id="nobody").streams == 0

    against = log.verify(digest=log.digest)
    assert against.intact and against.digest_streams == len(log.streams)


# ---------------------------------------------------------------------- single bytes


def _other_char(rng: random.Random, text: str, at: int) -> str:
    choice = rng.choice([c for c in map(chr, range(0x21, 0x7F)) if c != text[at]])
    return text[:at] + choice + text[at + 1 :]


def _flip(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ rng.randrange(1, 256)]) + data[at + 1 :]


def _other_stream_id(rng: random.Random, log: Log, stream: str) -> Any:
    if log.tamper.backend == "sqlite":
        hexed = UUID(stream).hex
        return _other_char(rng, hexed, rng.randrange(len(hexed)))
    return UUID(bytes=_flip(rng, UUID(stream).bytes))


def single_byte_edit(rng: random.Random, log: Log) -> tuple[str, str, int, Undo]:
    """One random single-byte edit: what was edited, and where."""
    t = log.tamper
    stream, _, length = log.pick(rng)
    version = rng.randint(1, length)
    kind = rng.choice(["state"] * 5 + ["topic", "version", "stream", "tenant", "hash", "hash key"])
    match kind:
        case "state":
            new: Any = _flip(rng, bytes(t.value(t.events, "state", stream, version)))
            return kind, stream, version, t.set_value(t.events, "state", stream, version, new)
        case "topic":
            topic = t.value(t.events, "topic", stream, version)
            new = _other_char(rng, topic, rng.randrange(len(topic)))
            return kind, stream, version, t.set_value(t.events, "topic", stream, version, new)
        case "version":
            new = version ^ (rng.randrange(1, 256) << (8 * rng.randint(1, 6)))
            undo = t.set_value(t.events, "originator_version", stream, version, new)
            return kind, stream, version, undo
        case "stream":
            new = _other_stream_id(rng, log, stream)
            return (
                kind,
                stream,
                version,
                t.set_value(t.events, "originator_id", stream, version, new),
            )
        case "tenant":
            tenant = t.value(t.hashes, "tenant_id", stream, version)
            new = _other_char(rng, tenant, rng.randrange(len(tenant)))
            return kind, stream, version, t.set_value(t.hashes, "tenant_id", stream, version, new)
        case "hash":
            new = _flip(rng, bytes(t.value(t.hashes, "hash", stream, version)))
            return kind, stream, version, t.set_value(t.hashes, "hash", stream, version, new)
        case _:
            new = _other_stream_id(rng, log, stream)
            return (
                kind,
                stream,
                version,
                t.set_value(t.hashes, "originator_id", stream, version, new),
            )


def test_every_single_byte_edit_is_detected_and_names_its_event(log: Log) -> None:
    rng = random.Random(20261121)
    kinds: dict[str, int] = {}
    for _ in range(SINGLE_BYTE_EDITS):
        kind, stream, version, undo = single_byte_edit(rng, log)
        kinds[kind] = kinds.get(kind, 0) + 1
        report = assert_names(log, undo, stream, version)
        if kind not in ("tenant", "stream", "hash key"):
            assert len(report.failures) == 1
            assert report.failures[0].tenant_id == log.streams[stream][0]
    assert set(kinds) == {"state", "topic", "version", "stream", "tenant", "hash", "hash key"}
    assert log.verify().intact  # every edit was undone: no false positive either


# ---------------------------------------------------------------------- structure


def run_cases(log: Log, case: Callable[[random.Random], tuple[Undo, str, int]]) -> None:
    rng = random.Random(7)
    for _ in range(STRUCTURAL_CASES):
        undo, stream, version = case(rng)
        assert_names(log, undo, stream, version)
    assert log.verify().intact


def test_swapping_two_adjacent_events_is_named_at_the_first(log: Log) -> None:
    def swap(rng: random.Random) -> tuple[Undo, str, int]:
        stream, _, length = log.pick(rng, min_length=2)
        v = rng.randint(1, length - 1)
        return log.tamper.swap_states(stream, v, v + 1), stream, v

    run_cases(log, swap)


def test_deleting_an_event_mid_stream_is_named_with_or_without_its_hash_row(log: Log) -> None:
    t = log.tamper

    def delete(rng: random.Random) -> tuple[Undo, str, int]:
        stream, _, length = log.pick(rng, min_length=3)
        v = rng.randint(2, length - 1)
        undo_event = t.delete(t.events, stream, [v])
        if rng.random() < 0.5:
            return undo_event, stream, v
        return undo_all(undo_event, t.delete(t.hashes, stream, [v])), stream, v

    run_cases(log, delete)


def test_inserted_events_are_named(log: Log) -> None:
    t = log.tamper

    def insert(rng: random.Random) -> tuple[Undo, str, int]:
        stream, tenant, length = log.pick(rng, min_length=2)
        topic = t.value(t.events, "topic", stream, length)
        state = bytes(t.value(t.events, "state", stream, length))
        match rng.choice(["tail", "forged hash", "mid-stream", "new stream"]):
            case "tail":  # an event appended without its hash row
                return t.insert_event(stream, length + 1, topic, state), stream, length + 1
            case "forged hash":  # with a made-up hash row
                forged = rng.randbytes(32)
                undo = t.insert_event(
                    stream, length + 1, topic, state, tenant=tenant, forged=forged
                )
                return undo, stream, length + 1
            case "mid-stream":  # later versions moved up to make room, hashes untouched
                v = rng.randint(2, length)
                undos = [
                    t.set_value(t.events, "originator_version", stream, n, n + 1)
                    for n in range(length, v - 1, -1)
                ]
                copied = bytes(t.value(t.events, "state", stream, v - 1))  # not event v's
                undos.append(t.insert_event(stream, v, topic, copied))
                return undo_all(*undos), stream, v
            case _:  # a whole stream that chatledger never recorded
                new = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                return t.insert_event(new, 1, topic, state), new, 1

    run_cases(log, insert)


# ---------------------------------------------------------------------- truncation, rewrites


def test_a_truncated_tail_passes_the_chain_alone_and_fails_against_the_digest(log: Log) -> None:
    t = log.tamper
    for k in range(1, STRUCTURAL_CASES + 1):
        stream, _, length = log.pick(random.Random(k), min_length=k + 1)
        cut = list(range(length - k + 1, length + 1))
        undo = undo_all(t.delete(t.events, stream, cut), t.delete(t.hashes, stream, cut))
        assert log.verify().intact  # a hash chain cannot see its own tail cut off
        report = assert_names(log, undo, stream, length - k + 1, digest=log.digest)
        assert "truncated" in report.failures[0].reason


def test_a_rewrite_with_recomputed_hashes_passes_the_chain_alone_and_fails_against_the_digest(
    log: Log,
) -> None:
    t = log.tamper
    rng = random.Random(11)
    for _ in range(STRUCTURAL_CASES):
        stream, tenant, length = log.pick(rng)
        v = rng.randint(1, length)
        state = bytes(t.value(t.events, "state", stream, v))
        undo = undo_all(
            t.set_value(t.events, "state", stream, v, state.replace(b'"', b"'", 1)),
            t.rehash(stream, tenant, v),
        )
        assert log.verify().intact  # the chain was recomputed: only a digest can tell
        report = assert_names(log, undo, stream, length, digest=log.digest)
        assert "rewritten" in report.failures[0].reason
    assert log.verify(digest=log.digest).intact


def test_a_deleted_stream_is_missing_against_the_digest(log: Log) -> None:
    t = log.tamper
    stream, tenant, length = log.pick(random.Random(3), min_length=2)
    versions = list(range(1, length + 1))
    undo = undo_all(t.delete(t.events, stream, versions), t.delete(t.hashes, stream, versions))
    assert log.verify().intact
    report = assert_names(log, undo, stream, 1, digest=log.digest)
    assert report.failures[0].reason.startswith("missing")
    assert report.failures[0].tenant_id == tenant


def test_a_tenant_sees_only_its_own_streams_tampering(log: Log) -> None:
    t = log.tamper
    stream = next(s for s, (tenant, n) in sorted(log.streams.items()) if tenant == "t2" and n > 2)
    undo = t.set_value(t.events, "state", stream, 2, b"{}")
    try:
        assert log.verify(tenant_id="t1").intact
        assert (stream, 2) in named(log.verify(tenant_id="t2"))
    finally:
        undo()


# ---------------------------------------------------------------------- writers, old stores


def test_hashes_chain_across_several_processes_writing_one_stream(
    database_url: str, tmp_path: Path
) -> None:
    first = open_ledger(Settings(database_url=database_url))
    second = open_ledger(Settings(database_url=database_url))
    try:
        session = first.create_session(T1, title="shared")
        for n in range(6):  # each ledger's cached head goes stale in turn
            writer = first if n % 2 else second
            writer.append_messages(T1, session.id, [Message.user(f"m{n}")])
        report = first.verify()
        assert report.intact and report.events == 7
    finally:
        first.close()
        second.close()


def test_events_stored_before_the_chain_existed_are_chained_once_at_upgrade(
    database_url: str,
) -> None:
    ledger = open_ledger(Settings(database_url=database_url))
    session = ledger.create_session(T1, title="old")
    ledger.append_messages(T1, session.id, [Message.user("before")])
    ledger.close()
    tamper = Tamper(database_url)
    tamper.execute(f"DROP TABLE {tamper.hashes}")  # as a store from before this feature
    try:
        upgraded = open_ledger(Settings(database_url=database_url))
        upgraded.append_messages(T1, session.id, [Message.user("after")])
        assert upgraded.verify().intact and upgraded.verify().events == 3
        assert tamper.value(tamper.hashes, "tenant_id", str(session.id), 1) == "t1"
        upgraded.close()

        tamper.delete(tamper.hashes, str(session.id), [2])
        reopened = open_ledger(Settings(database_url=database_url))  # never re-blesses rows
        assert (str(session.id), 2) in named(reopened.verify())
        reopened.close()
    finally:
        tamper.close()


def test_imported_bundles_and_snapshotted_streams_verify_intact(database_url: str) -> None:
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        session = ledger.create_session(T1, title="long enough for a snapshot")
        for start in range(0, 120, 40):
            batch = [Message.user(f"m{n}") for n in range(start, start + 40)]
            ledger.append_messages(T1, session.id, batch)
        bundle = b"".join(ledger.export_session("t1", session.id))
        copy = uuid.uuid4()
        ledger.import_bundle(T2, bundle, new_id=copy)
        ledger.append_messages(T2, copy, [Message.user("after the import")])

        report = ledger.verify()

        assert report.intact, report.failures
        assert report.events == 121 + 122
        assert ledger.verify(tenant_id="t2").events == 122
    finally:
        ledger.close()
