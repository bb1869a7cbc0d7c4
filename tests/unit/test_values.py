"""Pure rules: JSON merge patch, JSON containment, cursors, database URLs."""

from __future__ import annotations

import pytest

from adapters.persistence.containment import contains
from adapters.settings import DatabaseURLError, parse_database_url
from domain.errors import InvalidInputError
from domain.patching import merge_patch
from projections.paging import decode_cursor, encode_cursor


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": [1]}, {"a": [2]}) == {"a": [2]}
    assert merge_patch({"a": 1}, {"a": {"b": None}}) == {"a": {}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}, "the target is not modified"


@pytest.mark.parametrize(
    ("document", "pattern", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"c": 1}}}, True),
        ({"tags": ["x", "y"]}, {"tags": ["y"]}, True),
        ({"tags": ["x"]}, {"tags": ["z"]}, False),
        ({"tags": [{"k": 1, "v": 2}]}, {"tags": [{"k": 1}]}, True),
        ({"flag": True}, {"flag": 1}, False),
        ({"n": 1}, {"n": 1.0}, True),
        ({"a": 1}, {}, True),
        ({"a": None}, {"a": None}, True),
        ({}, {"a": None}, False),
    ],
)
def test_containment_matches_postgres_jsonb(
    document: object, pattern: object, expected: bool
) -> None:
    assert contains(document, pattern) is expected


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor({"version": 7}), version=int) == {"version": 7}
    foreign = ["###", "bm90IGpzb24", encode_cursor({"other": 1}), encode_cursor({"version": "7"})]
    foreign += [encode_cursor({"version": True}), encode_cursor({"version": -1})]
    for bad in foreign:
        with pytest.raises(InvalidInputError):
            decode_cursor(bad, version=int)
    with pytest.raises(InvalidInputError):
        decode_cursor(encode_cursor({"updated_at": "x", "id": "a\x00"}), updated_at=str, id=str)


def test_database_urls_are_parsed_or_refused() -> None:
    assert parse_database_url("sqlite:///chatledger.db").sqlite_path == "chatledger.db"
    assert parse_database_url("sqlite:////var/lib/c.db").sqlite_path == "/var/lib/c.db"
    pg = parse_database_url("postgresql://bob:pw@db.local:5433/chat?schema=s1")
    assert (pg.host, pg.port, pg.user, pg.password, pg.name, pg.schema) == (
        "db.local",
        5433,
        "bob",
        "pw",
        "chat",
        "s1",
    )
    for bad in ("mysql://x/y", "sqlite:/relative", "postgresql://host-only"):
        with pytest.raises(DatabaseURLError):
            parse_database_url(bad)
