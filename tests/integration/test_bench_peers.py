"""The peer benchmark's adapters (bench/peers) do what the harness times, at N=3.

Every system the install provides (chatledger and the raw driver always; LangGraph and the
Agents SDK with the `bench` extra) writes, reads and measures its bytes on a real SQLite
file and a real PostgreSQL schema. No ShareGPT data is needed: the turns are made here.
The chat-turn phase runs every chat system (and the direct call) on fresh databases of
each backend against the benchmark's fake provider, a process on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bench.databases import target_for
from bench.fake_openai import FakeOpenAI
from bench.peers.measure import catch_up, ingest, reads
from bench.peers.plan import QUICK
from bench.peers.render import chat_turn_tables, merged, tables
from bench.peers.summary import compare_chat_turns
from bench.peers.system import NotSupportedError, chat_factories, factories
from bench.peers.turns import chat_turns
from bench.report import RESULTS
from bench.sharegpt import Turn
from bench.storage import Payload

BACKEND_NAMES = ("sqlite", "postgres")
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
        for turns in (TURNS[:2], TURNS[2:3], TURNS[:1]):  # written up to N/2, then one by one
            system.append(session, system.prepare(turns))
        figures = reads({system_name: (system, {4: session})}, plan)[system_name]
    finally:
        system.close()

    assert figures["history_4"]["samples"] == figures["page_4"]["samples"] == 3
    for state in ("state_at_half_4", "state_near_half_4"):
        if system_name == "agents-sdk":
            assert "not_supported" in figures[state]
        else:
            assert figures[state]["median_ms"] > 0


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


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAI]:
    """The benchmark's fake OpenAI-compatible server (its own process, on 127.0.0.1)."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    """A backend, and the server on which the phase creates its fresh databases."""
    if request.param == "sqlite":
        return "sqlite", ""
    return "postgres", str(request.getfixturevalue("postgres_server_url"))


def test_chat_turns_send_every_system_the_same_conversation(
    backend: tuple[str, str], provider: FakeOpenAI
) -> None:
    name, server_url = backend
    plan = replace(QUICK, chat_histories=(1, 3), chat_turns=3, chat_warmup=1, least=2)
    texts = ["Hello there", "Ça va?", "Tell me more about it."]

    figures = chat_turns(
        name, plan, chat_factories(), texts, postgres_url=server_url, fake=provider, progress=print
    )

    assert set(figures) == set(chat_factories()) >= {"chatledger", "raw"}
    for system in figures.values():
        assert system["turn"]["1"]["samples"] == system["turn"]["3"]["samples"] == 3
        # After 1 turn (2 messages) the timed turns send 3, 5, 7; after 3 turns 7, 9, 11.
        assert system["messages_sent"] == {"1": [3, 7], "3": [7, 11]}
        assert system["phases"]["3"]["provider_median_ms"] > 0


def test_chat_turns_are_rendered_against_the_direct_call() -> None:
    latency = {"samples": 30, "median_ms": 2.0, "p95_ms": 4.0}
    phases = {"before_provider_median_ms": 1.0, "provider_median_ms": 0.5}
    phases["after_provider_median_ms"] = 0.5

    def chat(label: str, factor: float) -> dict[str, Any]:
        turn = {k: v * factor if k != "samples" else v for k, v in latency.items()}
        return {"label": label, "turn": {"10": turn}, "phases": {"10": phases}}

    systems = {
        "chatledger": {"chat": chat("chatledger on SQLite", 3.0)},
        "raw": {"chat": chat("direct call", 1.0)},
        "agents-sdk": {"chat": chat("Agents SDK", 6.0)},
    }
    results = {
        "plan": QUICK.as_dict(),
        "summary": {"sqlite": {"chat": compare_chat_turns(systems)}},
    }

    text = "\n".join(chat_turn_tables(results, {"sqlite": systems}))

    assert "| SQLite | chatledger on SQLite | 6.00 (3×) | 12.00 (3×) |" in text
    assert "| SQLite | direct call | 2.00 (1×) | 4.00 (1×) |" in text
    assert "| SQLite | *chatledger ÷ best peer (below 1: faster)* | 0.5 | 0.5 |" in text


def test_runs_of_one_plan_on_two_backends_render_as_one() -> None:
    runs = [json.loads((RESULTS / f"peers-full-{b}.json").read_text()) for b in BACKEND_NAMES]

    run = merged(runs)
    text = tables(run)

    assert list(run["backends"]) == list(BACKEND_NAMES)
    assert run["duration_seconds"] == sum(r["duration_seconds"] for r in runs)
    assert run["environment"]["versions"]["postgresql"]  # from the PostgreSQL run
    assert "| SQLite | ingest, msg/s |" in text and "| PostgreSQL | ingest, msg/s |" in text
    with pytest.raises(ValueError, match="different plans"):
        merged([runs[0], runs[1] | {"plan": QUICK.as_dict()}])
