"""The event hash: deterministic, chained, and sensitive to every field it covers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from adapters.persistence.chain import GENESIS, HASH_TAG, event_hash

BASE: dict[str, Any] = {
    "prev": GENESIS,
    "tenant_id": "t1",
    "stream_id": "5f0c6e4e-8d3b-4f5e-9a51-0d3c2b1a0f9e",
    "version": 1,
    "topic": b"chatledger.Session.Created",
    "state": b'{"title":"Trip"}',
}


def hash_of(**changes: Any) -> bytes:
    return event_hash(**(BASE | changes))


def test_the_same_event_always_hashes_the_same() -> None:
    assert hash_of() == hash_of()
    assert len(hash_of()) == 32


def test_the_hash_is_sha256_over_the_documented_encoding() -> None:
    def field(data: bytes) -> bytes:
        return len(data).to_bytes(8, "big") + data

    expected = hashlib.sha256(
        HASH_TAG
        + GENESIS
        + field(b"t1")
        + field(BASE["stream_id"].encode())
        + (1).to_bytes(8, "big")
        + field(BASE["topic"])
        + field(BASE["state"])
    ).digest()

    assert hash_of() == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"prev": b"\x01" * 32},
        {"tenant_id": "t2"},
        {"stream_id": "5f0c6e4e-8d3b-4f5e-9a51-0d3c2b1a0f9f"},
        {"version": 2},
        {"topic": b"chatledger.Session.Deleted"},
        {"state": b'{"title":"Trip!"}'},
        {"state": b""},
    ],
    ids=["prev", "tenant", "stream", "version", "topic", "state", "empty-state"],
)
def test_every_covered_field_changes_the_hash(changes: dict[str, Any]) -> None:
    assert hash_of(**changes) != hash_of()


def test_moving_bytes_between_fields_changes_the_hash() -> None:
    # Length prefixes keep field boundaries: "t1"+"x" is not "t"+"1x".
    assert hash_of(tenant_id="t", topic=b"1" + BASE["topic"]) != hash_of()
    assert hash_of(topic=b"a", state=b"bc") != hash_of(topic=b"ab", state=b"c")


def test_each_hash_chains_on_the_previous_one() -> None:
    first = hash_of()
    second = hash_of(prev=first, version=2, topic=b"chatledger.Session.MessageAppended")
    forged_first = hash_of(state=b'{"title":"Other"}')

    assert hash_of(prev=forged_first, version=2, topic=b"chatledger.Session.MessageAppended") != (
        second
    )
