"""The peer benchmark's adapters (bench/peers) do what the harness times, at N=3.

Every system the install provides (chatledger and the raw driver always; LangGraph and the
Agents SDK with the `bench` extra) writes, reads and measures its bytes on a real SQLite
file and a real PostgreSQL schema. No ShareGPT data is needed: the turns are made here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bench.databases import target_for
from bench.peers.measure import catch_up, ingest, reads
from bench.peers.plan import QUICK
from bench.peers.system import NotSupportedError, factories
from bench.sharegpt import Turn
from bench.storage import Payload

TURNS = [Turn("user", "Hello there"), Turn("assistant", "Hi! Ça va?"), Turn("user", "Bien.")]


@pytest.fixture(params=list(factories()))
def system_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_system_stores_and_reads_three_messages(database_url: str, system_name: str) -> None:
    system: Any = factories()[system_name](target_for(database_url))
    try:
        session = system.create_session()
        system.append(session, system.prepare(TURNS[:1]))
        system.append(session, system.prepare(TURNS[1:]))
        system.caught_up()

        assert system.history(session) == 3
        assert system.page(session, 2) == 2
        try:
            assert system.state_at(session, 1) == 1
        except NotSupportedError:
            assert system_name == "agents-sdk"
        system.end_session(session)
    finally:
        system.close()
    assert system.storage().total_bytes > 0


def test_ingest_counts_every_message_of_every_conversation(
    database_url: str, system_name: str
) -> None:
    system: Any = factories()[system_name](target_for(database_url))
    payload = Payload()
    try:
        figures = ingest(
            {system_name: system},
            [TURNS, TURNS[:2]],
            per_message=True,
            budget=60.0,
            payloads={system_name: payload},
        )[system_name]
    finally:
        system.close()

    assert figures["conversations"] == 2
    assert figures["messages"] == figures["writes"] == 5
    assert figures["complete"] is True
    assert payload.messages == 5


def test_reads_report_a_latency_or_what_the_system_cannot_do(
    database_url: str, system_name: str
) -> None:
    plan = replace(QUICK, read_sizes=(4,), middle_sizes=(4,), page=3, read_repeats=3, least=2)
    system: Any = factories()[system_name](target_for(database_url))
    try:
        session = system.create_session()
        system.append(session, system.prepare(TURNS[:2]))
        system.append(session, system.prepare(TURNS[2:] + TURNS[:1]))
        figures = reads({system_name: (system, {4: session})}, plan)[system_name]
    finally:
        system.close()

    assert figures["history_4"]["samples"] == figures["page_4"]["samples"] == 3
    if system_name == "agents-sdk":
        assert "not_supported" in figures["state_at_half_4"]
    else:
        assert figures["state_at_half_4"]["median_ms"] > 0


def test_chatledger_views_rebuild_from_empty(database_url: str) -> None:
    system: Any = factories()["chatledger"](target_for(database_url))
    try:
        session = system.create_session()
        system.append(session, system.prepare(TURNS))
        figures = catch_up(system.view_names(), system.rebuild_view)
        assert system.history(session) == 3
    finally:
        system.close()

    assert figures["events"] >= 2  # the session's creation and its messages
    assert set(figures["views"]) >= {"history", "session_list"}
