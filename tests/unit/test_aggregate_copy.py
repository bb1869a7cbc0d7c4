"""A copy of a cached aggregate for one command: immutables shared, containers its own."""

from __future__ import annotations

from copy import deepcopy

from adapters.bootstrap import open_ledger
from adapters.settings import Settings
from domain.context import CommandContext
from domain.session import Session

CTX = CommandContext(tenant_id="t1", actor="someone")


def _session() -> Session:
    ledger = open_ledger(Settings(database_url="sqlite:///:memory:"))
    try:
        session_id = ledger.create_session(CTX, title="copied", metadata={"k": [1]}).id
        session: Session = ledger.engine.repository.get(session_id)
        return session
    finally:
        ledger.close()


def test_a_copy_shares_immutable_values_and_owns_its_containers() -> None:
    session = _session()
    session.summaries = []  # type: ignore[misc]

    copied = deepcopy(session)
    copied.metadata["k"].append(2)
    copied.summaries.append("mine")  # type: ignore[attr-defined]

    assert copied.id is session.id and copied.title is session.title
    assert session.metadata == {"k": [1]} and session.summaries == []
    assert copied.metadata == {"k": [1, 2]} and copied.summaries == ["mine"]


def test_a_container_shared_by_two_attributes_stays_shared_in_the_copy() -> None:
    session = _session()
    shared: list[str] = []
    session.summaries = session.merged_into = shared  # type: ignore[misc]

    copied = deepcopy(session)

    assert copied.summaries is copied.merged_into
    assert copied.summaries is not shared
