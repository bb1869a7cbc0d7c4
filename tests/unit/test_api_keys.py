"""API keys in the domain (events, topics, no secret stored), their wire format, and the
count of failed authentications per client address."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from adapters.api_key_tokens import (
    key_token,
    new_secret,
    parse_token,
    secret_matches,
    secret_sha256,
)
from adapters.bootstrap import open_ledger
from adapters.http.auth_failures import FailedAuthentications
from domain.access import Access
from domain.api_key import ApiKey
from domain.context import CommandContext
from domain.errors import (
    ApiKeyNotFoundError,
    ApiKeyRevokedError,
    AuthenticationError,
    InvalidInputError,
)

CTX = CommandContext(tenant_id="t1", actor="alice", correlation_id="c1")


def test_key_and_access_events_have_explicit_topics_that_resolve_to_them() -> None:
    for cls, topic in (
        (ApiKey.Created, "chatledger.ApiKey.Created"),
        (ApiKey.Revoked, "chatledger.ApiKey.Revoked"),
        (Access.Denied, "chatledger.Access.Denied"),
    ):
        assert get_topic(cls) == topic
        assert resolve_topic(topic) is cls


def test_creating_a_key_records_its_hash_role_and_envelope_never_its_secret() -> None:
    secret = new_secret()
    key = ApiKey.create(
        CTX, key_id=uuid4(), role="auditor", name="ci", secret_sha256=secret_sha256(secret)
    )

    [created] = key.collect_events()

    assert isinstance(created, ApiKey.Created)
    assert (created.tenant_id, created.actor, created.correlation_id) == ("t1", "alice", "c1")
    assert (created.role, created.name) == ("auditor", "ci")
    assert created.secret_sha256 == secret_sha256(secret)
    assert secret not in created.model_dump_json()


def test_a_key_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        ApiKey.create(CTX, key_id=uuid4(), role="root", name="", secret_sha256="0" * 64)
    assert raised.value.field == "role"


def test_revoking_twice_records_one_revocation() -> None:
    key = ApiKey.create(CTX, key_id=uuid4(), role="member", name="", secret_sha256="0" * 64)
    key.revoke(CTX)
    key.revoke(CTX)

    events = key.collect_events()

    assert [type(e) for e in events] == [ApiKey.Created, ApiKey.Revoked]
    assert key.state().is_revoked


def test_a_key_round_trips_through_its_wire_format() -> None:
    key_id, secret = uuid4(), new_secret()
    token = key_token(key_id, secret)

    assert token.startswith("clk_")
    assert parse_token(token) == (key_id, secret)
    assert parse_token(f"  {token}\n") == (key_id, secret)


@pytest.mark.parametrize(
    "token",
    ["", "clk_", "Bearer x", "clk_" + "g" * 32 + "_" + "a" * 43, "clk_" + "0" * 32 + "_short"],
)
def test_malformed_keys_do_not_parse(token: str) -> None:
    assert parse_token(token) is None


def test_secrets_match_only_their_own_hash() -> None:
    secret = new_secret()
    assert secret_matches(secret, secret_sha256(secret))
    assert not secret_matches(secret, secret_sha256(new_secret()))
    assert not secret_matches(secret, None)


def test_the_ledger_authenticates_active_keys_only() -> None:
    ledger = open_ledger(database_url="memory://")
    issued = ledger.create_api_key(CTX, role="member", name="bot")
    key_id, _ = parse_token(issued.token) or (None, None)
    forged = key_token(key_id, new_secret()) if key_id else ""

    assert str(ledger.authenticate(issued.token).id) == issued.key.id
    with pytest.raises(AuthenticationError, match="unknown"):
        ledger.authenticate(forged)
    with pytest.raises(AuthenticationError, match="malformed"):
        ledger.authenticate("clk_nope")
    ledger.revoke_api_key(CTX, issued.key.id)
    with pytest.raises(ApiKeyRevokedError):
        ledger.authenticate(issued.token)
    with pytest.raises(AuthenticationError, match="unknown"):
        ledger.authenticate(forged)  # a wrong secret never learns the key was revoked
    ledger.close()


def test_another_tenants_key_cannot_be_read_or_revoked() -> None:
    ledger = open_ledger(database_url="memory://")
    issued = ledger.create_api_key(CTX, role="admin")
    other = CommandContext(tenant_id="t2", actor="mallory")

    with pytest.raises(ApiKeyNotFoundError):
        ledger.get_api_key("t2", issued.key.id)
    with pytest.raises(ApiKeyNotFoundError):
        ledger.revoke_api_key(other, issued.key.id)
    with pytest.raises(ApiKeyNotFoundError):
        ledger.revoke_api_key(CTX, "not-an-id")
    assert ledger.get_api_key("t1", issued.key.id).status == "active"
    ledger.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_refused_after_the_limit_until_the_window_passes() -> None:
    clock = FakeClock()
    failures = FailedAuthentications(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert failures.retry_after("10.0.0.1") is None
        failures.record("10.0.0.1")
        clock.now += 1

    assert failures.retry_after("10.0.0.1") == pytest.approx(57)
    assert failures.retry_after("10.0.0.2") is None
    clock.now += 57
    assert failures.retry_after("10.0.0.1") is None


def test_failures_are_kept_for_a_bounded_number_of_clients() -> None:
    failures = FailedAuthentications(limit=1, window=60, max_clients=2, clock=FakeClock())
    for client in ("a", "b", "c"):
        failures.record(client)

    assert failures.retry_after("a") is None  # forgotten: the least recently failing
    assert failures.retry_after("b") == failures.retry_after("c") == 60
