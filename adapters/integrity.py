"""Verifying the hash chain: walk every stream, recompute, name the first bad event.

`verify_chain` reads the events and their hash rows in one consistent snapshot
(`adapters.persistence.chain_reader`), merges the two ordered streams and checks
each stream in turn: versions contiguous from 1, every event with its hash row
and every hash row with its event, one tenant per stream, and each stored hash
equal to the hash recomputed from the stored bytes and the previous stored hash.
The first failure of each stream is reported as (tenant, stream, version, reason).
Given a digest's streams (`adapters.digest`), it also checks that each is still
there, no shorter, and has the digest's head at the digest's count, which a chain
alone cannot show (a truncated tail, a stream rewritten with recomputed hashes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.persistence.chain import GENESIS, event_hash
from adapters.persistence.chain_reader import ChainReader, EventRow, HashRow


@dataclass(frozen=True)
class Failure:
    """The first bad event of one stream, and why."""

    tenant_id: str | None
    stream_id: str
    version: int | None
    reason: str

    def line(self) -> str:
        version = "?" if self.version is None else self.version
        tenant = "?" if self.tenant_id is None else self.tenant_id
        return f"tenant {tenant}, stream {self.stream_id}, version {version}: {self.reason}"


@dataclass(frozen=True)
class StreamHead:
    """A verified stream's tenant, event count and head hash (what a digest signs)."""

    tenant_id: str
    stream_id: str
    count: int
    head: bytes


@dataclass(frozen=True)
class Expected:
    """What a digest says of one stream."""

    tenant_id: str
    count: int
    head: bytes


@dataclass(frozen=True)
class VerifyReport:
    """The verdict on a store (or one tenant of it): totals and each stream's failure."""

    tenant_id: str | None
    streams: int
    events: int
    seconds: float
    failures: tuple[Failure, ...]
    digest_streams: int | None = None
    """Streams checked against a digest (None when no digest was given)."""
    heads: tuple[StreamHead, ...] = field(default=(), repr=False)

    @property
    def intact(self) -> bool:
        return not self.failures

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def verdict(self) -> str:
        """One line: intact, or the first failure (and how many streams failed)."""
        scope = "all tenants" if self.tenant_id is None else f"tenant {self.tenant_id}"
        if self.intact:
            checked = "" if self.digest_streams is None else f", {self.digest_streams} vs digest"
            return f"intact: {scope}, {self.streams} streams, {self.events} events{checked}"
        others = len(self.failures) - 1
        more = f" (and {others} more streams)" if others else ""
        return f"tampered: {self.failures[0].line()}{more}"


class StreamCheck:
    """Checks one stream's rows, in version order, and keeps its first failure."""

    def __init__(self, stream_id: str, expected: Expected | None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.tenant_id: str | None = None
        self.next_version = 1
        self.prev = GENESIS
        self.count = 0
        self.failure: tuple[int | None, str] | None = None
        self.hash_at_expected: bytes | None = None

    def add(self, event: EventRow | None, row: HashRow | None) -> None:
        if event is not None:
            self.count += 1
        if row is not None:
            if self.tenant_id is None:
                self.tenant_id = row.tenant_id
            if self.expected is not None and row.version == self.expected.count:
                self.hash_at_expected = row.hash
        if self.failure is None:
            self.failure = self._problem(event, row)

    def _problem(
        self, event: EventRow | None, row: HashRow | None
    ) -> tuple[int | None, str] | None:
        found = event or row
        assert found is not None
        version = found.version
        problem = (event.problem if event else None) or (row.problem if row else None)
        if problem is not None:
            return version, problem
        assert version is not None
        if version != self.next_version:
            if version > self.next_version:
                return self.next_version, f"missing (the next event stored is version {version})"
            return version, f"unexpected version (expected {self.next_version})"
        if event is None:
            return version, "the event is gone (its hash row remains)"
        if row is None:
            return version, "the event has no hash row (not recorded by chatledger)"
        if row.tenant_id != self.tenant_id:
            return version, f"tenant {row.tenant_id} differs from the stream's ({self.tenant_id})"
        assert event.topic is not None and event.state is not None and row.tenant_id is not None
        recomputed = event_hash(
            self.prev, row.tenant_id, event.stream_id, version, event.topic, event.state
        )
        if recomputed != row.hash:
            return version, "the stored hash does not match the event"
        assert row.hash is not None
        self.prev = row.hash
        self.next_version += 1
        return None

    def first_failure(self) -> Failure | None:
        if self.failure is not None:
            return Failure(self.tenant_id, self.stream_id, *self.failure)
        return self._against_digest()

    def _against_digest(self) -> Failure | None:
        expected = self.expected
        if expected is None:
            return None
        if self.tenant_id != expected.tenant_id:
            return Failure(
                self.tenant_id,
                self.stream_id,
                1,
                f"tenant differs from the digest's ({expected.tenant_id})",
            )
        if self.count < expected.count:
            return Failure(
                self.tenant_id,
                self.stream_id,
                self.count + 1,
                f"truncated: {self.count} events, the digest has {expected.count}",
            )
        if self.hash_at_expected != expected.head:
            return Failure(
                self.tenant_id,
                self.stream_id,
                expected.count,
                "rewritten: the hash at the digest's count differs from the digest's head",
            )
        return None

    def head(self) -> StreamHead | None:
        if self.failure is not None or self.tenant_id is None or self.count == 0:
            return None
        return StreamHead(self.tenant_id, self.stream_id, self.count, self.prev)


def _pairs(
    events: Iterator[EventRow], hashes: Iterator[HashRow]
) -> Iterator[tuple[EventRow | None, HashRow | None]]:
    """Events and hash rows side by side, by key (either may be missing)."""
    event, row = next(events, None), next(hashes, None)
    while event is not None or row is not None:
        if row is None or (event is not None and event.key < row.key):
            yield event, None
            event = next(events, None)
        elif event is None or row.key < event.key:
            yield None, row
            row = next(hashes, None)
        else:
            yield event, row
            event, row = next(events, None), next(hashes, None)


def _checks(
    pairs: Iterator[tuple[EventRow | None, HashRow | None]], expected: Mapping[str, Expected]
) -> Iterator[StreamCheck]:
    """One finished `StreamCheck` per stream."""
    check: StreamCheck | None = None
    stream_key: Any = None
    for event, row in pairs:
        found = event or row
        assert found is not None
        if check is None or found.key[0] != stream_key:
            if check is not None:
                yield check
            check = StreamCheck(found.stream_id, expected.get(found.stream_id))
            stream_key = found.key[0]
        check.add(event, row)
    if check is not None:
        yield check


def verify_chain(
    reader: ChainReader,
    *,
    tenant_id: str | None = None,
    expected: Mapping[str, Expected] | None = None,
    keep_heads: bool = False,
) -> VerifyReport:
    """Walk every stream (of `tenant_id` only, when given) and report what fails.

    `expected` holds a digest's streams by id: each must be present, no shorter, and
    end its first `count` events with the digest's head.
    """
    with_digest = expected is not None
    expected = dict(expected or {})
    started = time.perf_counter()
    failures: list[Failure] = []
    heads: list[StreamHead] = []
    streams = events = 0
    seen: set[str] = set()
    with reader.reading() as snapshot:
        scope = None
        if tenant_id is not None:
            scope = sorted(set(snapshot.streams_of(tenant_id)) | set(expected))
        pairs = _pairs(snapshot.events(scope), snapshot.hashes(scope))
        for check in _checks(pairs, expected):
            streams += 1
            events += check.count
            seen.add(check.stream_id)
            failure = check.first_failure()
            if failure is not None:
                failures.append(failure)
            elif keep_heads and (head := check.head()) is not None:
                heads.append(head)
    for stream_id in sorted(set(expected) - seen):
        gone = expected[stream_id]
        failures.append(
            Failure(gone.tenant_id, stream_id, 1, f"missing: the digest has {gone.count} events")
        )
    return VerifyReport(
        tenant_id=tenant_id,
        streams=streams,
        events=events,
        seconds=time.perf_counter() - started,
        failures=tuple(failures),
        digest_streams=len(expected) if with_digest else None,
        heads=tuple(heads),
    )
