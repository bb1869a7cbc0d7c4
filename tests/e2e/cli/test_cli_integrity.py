"""`chatledger verify|digest`: exit 0 when intact, 1 with a one-line verdict naming the tenant,
session and version when tampered; digests signed, written whole, checked with any key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.support.tampering import Tamper

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Where the signing key lives for these commands (and the tenant they write as)."""
    return {"CHATLEDGER_SECRETS_DIR": str(tmp_path / "secrets"), "CHATLEDGER_TENANT_ID": "t1"}


@pytest.fixture
def tamper(database_url: str) -> Iterator[Tamper]:
    tamper = Tamper(database_url)
    yield tamper
    tamper.close()


def make_session(chatledger_json: RunJson, env: dict[str, str]) -> str:
    """A session of 3 events."""
    sid = str(chatledger_json("sessions", "create", "--title", "Trip", env=env)["id"])
    chatledger_json("append", sid, "Hello", env=env)
    chatledger_json("append", sid, "Lisbon or Porto?", "--role", "assistant", env=env)
    return sid


def test_an_intact_log_verifies_with_exit_0_and_totals(
    chatledger: Run, chatledger_json: RunJson, env: dict[str, str]
) -> None:
    make_session(chatledger_json, env)

    result = chatledger("verify", env=env)
    report = chatledger_json("verify", "--tenant", "t1", env=env)

    assert result.stdout.startswith("intact: all tenants, 1 streams, 3 events")
    assert "events/s" in result.stdout
    assert report["intact"] and report["events"] == 3 and report["failures"] == []


def test_a_tampered_event_exits_1_naming_tenant_session_and_version(
    chatledger: Run, chatledger_json: RunJson, env: dict[str, str], tamper: Tamper
) -> None:
    sid = make_session(chatledger_json, env)
    tamper.set_value(tamper.events, "state", sid, 2, b'{"forged": true}')

    result = chatledger("verify", exit_code=1, env=env)
    report = json.loads(chatledger("verify", "--json", exit_code=1, env=env).stdout)

    first = result.stdout.splitlines()[0]
    assert first == (
        f"tampered: tenant t1, stream {sid}, version 2: the stored hash does not match the event"
    )
    assert report["failures"] == [
        {
            "tenant_id": "t1",
            "stream_id": sid,
            "version": 2,
            "reason": "the stored hash does not match the event",
        }
    ]


def test_a_digest_is_written_whole_and_catches_a_truncated_stream(
    chatledger: Run,
    chatledger_json: RunJson,
    env: dict[str, str],
    tamper: Tamper,
    tmp_path: Path,
) -> None:
    sid = make_session(chatledger_json, env)
    path = tmp_path / "digest.json"

    written = chatledger("digest", "--out", str(path), env=env)
    document = json.loads(path.read_text())
    chatledger_json("append", sid, "later appends are fine", env=env)
    later = chatledger("verify", "--digest", str(path), env=env)
    tamper.delete(tamper.events, sid, [3, 4])
    tamper.delete(tamper.hashes, sid, [3, 4])
    alone = chatledger("verify", env=env)
    against = chatledger("verify", "--digest", str(path), exit_code=1, env=env)

    assert written.stdout == "" and f"signed digest of 1 streams to {path}" in written.stderr
    assert document["streams"][0] | {"head": ""} == {
        "tenant_id": "t1",
        "stream_id": sid,
        "count": 3,
        "head": "",
    }
    assert later.stdout.startswith("intact: all tenants, 1 streams, 4 events, 1 vs digest")
    assert alone.stdout.startswith("intact")  # the chain alone cannot see its tail cut off
    assert against.stdout.splitlines()[0] == (
        f"tampered: tenant t1, stream {sid}, version 3: truncated: 2 events, the digest has 3"
    )


def test_a_digest_checks_with_the_printed_public_key_and_not_with_another(
    chatledger: Run,
    chatledger_json: RunJson,
    env: dict[str, str],
    tmp_path: Path,
    one_line_error: OneLineError,
) -> None:
    make_session(chatledger_json, env)
    digest, key, other = tmp_path / "d.json", tmp_path / "key.pem", tmp_path / "other.pem"
    digest.write_text(chatledger("digest", "--tenant", "t1", env=env).stdout)
    key.write_text(chatledger("digest", "--public-key", env=env).stdout)
    elsewhere = env | {"CHATLEDGER_SECRETS_DIR": str(tmp_path / "elsewhere")}
    other.write_text(chatledger("digest", "--public-key", env=elsewhere).stdout)

    checked = chatledger("verify", "--digest", str(digest), "--public-key", str(key), env=env)
    refused = chatledger(
        "verify", "--digest", str(digest), "--public-key", str(other), env=env, exit_code=2
    )
    unsigned = chatledger("verify", "--digest", str(digest), env=elsewhere, exit_code=2)

    assert key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert checked.stdout.startswith("intact")
    one_line_error(refused, 2, "digest: signed with another key")
    one_line_error(unsigned, 2, "digest: signed with another key")


def test_bad_digest_files_are_one_line_errors(
    chatledger: Run,
    chatledger_json: RunJson,
    env: dict[str, str],
    tmp_path: Path,
    one_line_error: OneLineError,
) -> None:
    make_session(chatledger_json, env)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff{not json")

    one_line_error(
        chatledger("verify", "--digest", str(garbage), env=env, exit_code=2), 2, "digest:"
    )
    one_line_error(
        chatledger("verify", "--digest", str(tmp_path / "none"), env=env, exit_code=2),
        2,
        "--digest: cannot read",
    )
    one_line_error(
        chatledger("verify", "--public-key", str(garbage), env=env, exit_code=2),
        2,
        "--public-key: give --digest FILE too",
    )


def test_a_tampered_log_is_not_signed(
    chatledger: Run,
    chatledger_json: RunJson,
    env: dict[str, str],
    tamper: Tamper,
    one_line_error: OneLineError,
) -> None:
    sid = make_session(chatledger_json, env)
    tamper.delete(tamper.hashes, sid, [1])

    result = chatledger("digest", env=env, exit_code=1)

    one_line_error(result, 1, f"not signed: tampered: tenant t1, stream {sid}, version 1")
