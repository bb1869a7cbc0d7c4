"""`chatledger keys create|list|revoke`, and `serve` listening beyond loopback only with
authentication in force."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import Result

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from tests.support.api_keys import secret_of

Run = Callable[..., Result]
RunJson = Callable[..., Any]


def test_keys_are_created_listed_and_revoked(
    chatledger: Run, chatledger_json: RunJson, database_url: str
) -> None:
    made = chatledger_json("keys", "create", "--tenant", "A", "--role", "admin", "--name", "ops")
    other = chatledger_json("keys", "create", "--tenant", "B", "--role", "auditor")
    secret = secret_of(made["key"])

    everyone = chatledger("keys", "list")
    only_a = chatledger_json("keys", "list", "--tenant", "A")
    revoked = chatledger_json("keys", "revoke", other["id"], "--actor", "root")

    assert made["key"].startswith("clk_") and made["tenant_id"] == "A"
    assert (made["role"], made["name"], made["status"]) == ("admin", "ops", "active")
    assert made["id"] in everyone.stdout and other["id"] in everyone.stdout
    assert secret not in everyone.stdout
    assert [k["id"] for k in only_a["data"]] == [made["id"]]
    assert "key" not in only_a["data"][0]
    assert (revoked["status"], revoked["tenant_id"]) == ("revoked", "B")
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        assert ledger.authenticate(made["key"]).tenant_id == "A"
        [_, revocation] = ledger.engine.events.get(UUID(other["id"]))
        assert (revocation.tenant_id, revocation.actor) == ("B", "root")
    finally:
        ledger.close()


def test_create_prints_the_key_once_in_the_table(chatledger: Run) -> None:
    result = chatledger("keys", "create", "--role", "member")

    assert "key: clk_" in result.stdout
    assert "shown this once" in result.stdout


def test_bad_roles_and_unknown_keys_are_one_line_errors(chatledger: Run) -> None:
    bad_role = chatledger("keys", "create", "--role", "root", exit_code=2)
    unknown = chatledger("keys", "revoke", "00000000-0000-0000-0000-000000000000", exit_code=1)

    assert bad_role.stderr.startswith("error: ") and "--role" in bad_role.stderr
    assert unknown.stderr.strip() == (
        "error: API key 00000000-0000-0000-0000-000000000000 not found"
    )


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Where `serve` would listen; uvicorn is not started."""
    seen: dict[str, Any] = {}

    def run(app: FastAPI, *, host: str, port: int) -> None:
        seen["address"] = (host, port)

    monkeypatch.setattr(uvicorn, "run", run)
    return seen


def test_serve_refuses_a_public_address_until_a_key_exists(
    chatledger: Run, served: dict[str, Any]
) -> None:
    refused = chatledger("serve", "--host", "0.0.0.0", "--port", "18998", exit_code=2)
    assert refused.stderr.startswith("error: refusing to listen on 0.0.0.0")
    assert len(refused.stderr.strip().splitlines()) == 1
    assert served == {}

    chatledger("keys", "create", "--role", "admin")
    chatledger("serve", "--host", "0.0.0.0", "--port", "18998")

    assert served == {"address": ("0.0.0.0", 18998)}


def test_serve_refuses_a_public_address_with_auth_off_even_with_keys(
    chatledger: Run, served: dict[str, Any]
) -> None:
    chatledger("keys", "create", "--role", "admin")

    refused = chatledger("serve", "--host", "0.0.0.0", exit_code=2, env={"CHATLEDGER_AUTH": "off"})

    assert "refusing to listen on 0.0.0.0" in refused.stderr
    assert served == {}


def test_serve_listens_publicly_when_keys_are_required(
    chatledger: Run, served: dict[str, Any]
) -> None:
    chatledger("serve", "--host", "0.0.0.0", "--port", "18997", env={"CHATLEDGER_AUTH": "required"})

    assert served == {"address": ("0.0.0.0", 18997)}
