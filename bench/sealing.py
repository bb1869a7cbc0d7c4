"""`python -m bench.sealing`: what sealing session content costs an append, and in bytes.

Two ledgers on the same backend, one sealing (the default) and one with sealing switched
off (plain JSON, as before), each append one message per command to its own session, in
alternating rounds so machine load hits both alike. Reports the median and p95 latency
of an append and the bytes stored per message: the event's state, plus the message's key
row (the wrapped key, its session id and name).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import open_ledger
from adapters.ledger import Ledger
from bench.databases import DEFAULT_POSTGRES_URL, postgres_reachable
from domain.context import CommandContext
from domain.message import Message

CTX = CommandContext(tenant_id="bench", actor="bench")
TEXT = (
    "Could you suggest a three-day itinerary for Lisbon in early spring, with one day for"
    " Sintra, a food market, a fado evening and a walk along the river? We travel with two"
    " children aged seven and ten and prefer trams to taxis. "
)  # about 270 characters, a typical chat message


def unsealed(ledger: Ledger) -> Ledger:
    """The ledger with sealing switched off: events are stored as plain JSON."""
    ledger.engine.mapper.sealer = None  # type: ignore[attr-defined]
    ledger.engine.recorder.keyring = None  # type: ignore[attr-defined]
    return ledger


def measure(ledgers: dict[str, Ledger], rounds: int) -> dict[str, list[float]]:
    sessions = {name: ledger.create_session(CTX).id for name, ledger in ledgers.items()}
    samples: dict[str, list[float]] = {name: [] for name in ledgers}
    order = list(ledgers)
    for index in range(rounds):
        for name in order if index % 2 else reversed(order):
            message = [Message.user(f"{index} {TEXT}")]
            started = time.perf_counter()
            ledgers[name].append_messages(CTX, sessions[name], message)
            samples[name].append(time.perf_counter() - started)
    return samples


def stored_sizes(ledger: Ledger, backend: str) -> tuple[float, float]:
    """Mean bytes of a `MessageAppended` event's state, and of a message key row."""
    recorder: Any = ledger.engine.recorder
    if backend == "sqlite":
        events, keys = "stored_events", "session_keys"
    else:
        schema = recorder.datastore.schema or "public"
        events, keys = f'"{schema}".{recorder.events_table_name}', f'"{schema}".session_keys'
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT AVG(LENGTH(state)) AS n FROM {events}"
            " WHERE topic = 'chatledger.Session.MessageAppended'"
        )
        state = float(cursor.fetchone()["n"] or 0)
        cursor.execute(
            f"SELECT AVG(LENGTH(session_id) + LENGTH(name) + LENGTH(wrapped)) AS n FROM {keys}"
            " WHERE name <> ''"
        )
        key = float(cursor.fetchone()["n"] or 0)
    return state, key


def run(backend: str, url: str, rounds: int) -> dict[str, Any]:
    sealed = open_ledger(database_url=url)
    plain = unsealed(open_ledger(database_url=url))
    try:
        samples = measure({"sealed": sealed, "plain": plain}, rounds)
    finally:
        sealed.close()
        plain.close()
    result: dict[str, Any] = {}
    for name, values in samples.items():
        values.sort()
        result[name] = {
            "median_ms": statistics.median(values) * 1000,
            "p95_ms": values[int(len(values) * 0.95)] * 1000,
        }
    return result


def event_bytes(url: str, backend: str) -> dict[str, float]:
    """Bytes of one message's event, sealed and plain, in a fresh database."""
    sizes = {}
    for name in ("sealed", "plain"):
        ledger = open_ledger(database_url=_fresh(url, backend, name))
        if name == "plain":
            unsealed(ledger)
        session = ledger.create_session(CTX)
        for index in range(50):
            ledger.append_messages(CTX, session.id, [Message.user(f"{index} {TEXT}")])
        sizes[name], key = stored_sizes(ledger, backend)
        if name == "sealed":
            sizes["key_row"] = key
        ledger.close()
    return sizes


def _fresh(url: str, backend: str, name: str) -> str:
    """A new database beside `url` (a file, or a schema) for one size measurement."""
    if backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/{name}.db"
    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}_{name}"')
    return f"{base}?schema={schema}_{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    urls = {"sqlite": f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"}
    if postgres_reachable(args.postgres_url) is None:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        urls["postgres"] = f"{args.postgres_url}?schema={schema}"
    try:
        for backend, url in urls.items():
            report(backend, args.rounds, run(backend, url, args.rounds), event_bytes(url, backend))
    finally:
        if "postgres" in urls:
            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                for (made,) in conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{schema}%",)
                ).fetchall():
                    conn.execute(f'DROP SCHEMA "{made}" CASCADE')


def report(backend: str, rounds: int, latency: dict[str, Any], sizes: dict[str, float]) -> None:
    """Print one backend's figures."""
    print(f"{backend}: append latency (1 message/command, {rounds} each)")
    for name in ("plain", "sealed"):
        figures = latency[name]
        print(f"  {name:6}  median {figures['median_ms']:.3f} ms  p95 {figures['p95_ms']:.3f} ms")
    print(
        f"  bytes per message: event {sizes['plain']:.0f} plain -> {sizes['sealed']:.0f}"
        f" sealed, + key row {sizes['key_row']:.0f}"
    )


if __name__ == "__main__":
    main()
