"""The chat turn's overhead: chatledger against a direct httpx call to the same fake provider.

One backend's run (`run`), on a fresh database, in one asyncio loop (the main thread's):

1. Turns without delay. Each subject keeps one conversation and every round sends it the
   same user message, so all conversations grow alike (a turn sends, and chatledger
   recalls, the whole history: 2·i messages before turn i). The order of the subjects
   rotates every round. Subjects:
   - `direct_json`, `direct_stream`: an `httpx.AsyncClient` POST to the fake server's
     `/v1/chat/completions` with the same body chatledger sends (its own message list),
     as one JSON reply or as SSE read line by line to the end of the body (past `[DONE]`,
     as the OpenAI SDK does, so httpx keeps the connection);
   - `direct_stream_stop`: the same, but it stops reading at `[DONE]`, as chatledger's
     `ProviderCalls.stream_sse` does: httpx then closes the connection, and every call
     opens a new one;
   - `achat`: `await ledger.achat(ctx, session_id, text)`;
   - `astream`: `async for event in ledger.astream(...)` until `done`;
   - `http`: `POST /v1/sessions/{id}/chat` on `adapters.http.app.create_app(ledger, settings)`
     over `httpx.ASGITransport` (no socket): what HTTP adds on top of `achat`. Skipped, and
     said so, when the app has no such route.
   chatledger always streams from the provider (`ChatService._call` uses `model.stream`),
   so its overhead is taken against `direct_stream`, the same wire work.
2. First token. The server waits `chat_chunk_delay_ms` before each of its 10 content
   chunks; `direct_stream` and `astream` alternate on fresh conversations. The server notes
   when it wrote its first content chunk; the client when the first content arrived (a
   chunk with text, a `ContentEvent`). Both use `time.perf_counter()`, the same
   CLOCK_MONOTONIC in both processes.

The server's timings also split every turn in three: before the provider has the request,
the provider's own time, and after it wrote its last byte.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.bootstrap import open_ledger
from adapters.chat_events import ContentEvent, DoneEvent, ErrorEvent
from adapters.ledger import Ledger
from adapters.settings import Settings
from bench.databases import fresh
from bench.fake_openai import CHUNKS, REPLY, WORDS, FakeOpenAI
from bench.latency import Latency
from bench.plan import Plan
from domain.context import CommandContext

TENANT = "bench"
CTX = CommandContext(tenant_id=TENANT, actor="bench")
MODEL = "gpt-5-mini"  # chatledger's default OpenAI model, so both bodies name the same one

Progress = Callable[[str], None]
CHAT_ROUTE = re.compile(r"^/v1/sessions/\{[^}]+\}/chat$")


def user_text(turn: int) -> str:
    """The user's message of a round: the same for every subject (~12 words)."""
    return f"Turn {turn}: what should we try next, and what could go wrong with it?"


@dataclass
class Sample:
    """One turn as the caller saw it (perf_counter seconds)."""

    start: float
    end: float
    first_content: float | None = None


@dataclass
class Subject:
    """A way of running a turn, with its own conversation."""

    name: str
    turn: Callable[[str], Awaitable[Sample]]
    samples: list[Sample] = field(default_factory=list)
    server: list[dict[str, Any]] = field(default_factory=list)
    """The fake server's timings of this subject's requests, in order."""


# Direct calls -----------------------------------------------------------------------------


class Direct:
    """A client without chatledger: its own message list, one POST per turn."""

    def __init__(self, client: httpx.AsyncClient, url: str, *, drain: bool = True) -> None:
        self.client = client
        self.drain = drain
        self.url = f"{url}/chat/completions"
        self.headers = {"authorization": "Bearer bench"}
        self.messages: list[dict[str, str]] = []

    async def json_turn(self, text: str) -> Sample:
        start = time.perf_counter()
        self.messages.append({"role": "user", "content": text})
        body = {"model": MODEL, "messages": self.messages}
        response = await self.client.post(self.url, json=body, headers=self.headers)
        response.raise_for_status()
        reply = response.json()["choices"][0]["message"]["content"]
        self.messages.append({"role": "assistant", "content": reply})
        end = time.perf_counter()
        assert reply == REPLY
        return Sample(start, end)

    async def stream_turn(self, text: str) -> Sample:
        start = time.perf_counter()
        first: float | None = None
        self.messages.append({"role": "user", "content": text})
        body = {
            "model": MODEL,
            "messages": self.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        parts: list[str] = []
        headers = self.headers | {"accept": "text/event-stream"}
        async with self.client.stream("POST", self.url, json=body, headers=headers) as response:
            response.raise_for_status()
            done = False
            async for line in response.aiter_lines():
                if done or not line.startswith("data: "):
                    continue  # read on to the end, or the connection is not reused
                data = line[6:]
                if data == "[DONE]":
                    if not self.drain:
                        break
                    done = True
                    continue
                for choice in json.loads(data)["choices"]:
                    if content := choice["delta"].get("content"):
                        first = first or time.perf_counter()
                        parts.append(content)
        reply = "".join(parts)
        self.messages.append({"role": "assistant", "content": reply})
        end = time.perf_counter()
        assert reply == REPLY
        return Sample(start, end, first)


# chatledger -------------------------------------------------------------------------------


class ChatledgerTurns:
    """One session of the ledger, talked to through `achat` or `astream`."""

    def __init__(self, ledger: Ledger, title: str) -> None:
        self.ledger = ledger
        self.session_id = ledger.create_session(CTX, title=title).id

    async def achat(self, text: str) -> Sample:
        start = time.perf_counter()
        result = await self.ledger.achat(CTX, self.session_id, text)
        end = time.perf_counter()
        assert result.output == REPLY
        return Sample(start, end)

    async def astream(self, text: str) -> Sample:
        start = time.perf_counter()
        first: float | None = None
        last: Any = None
        async for event in self.ledger.astream(CTX, self.session_id, text):
            if isinstance(event, ContentEvent) and first is None:
                first = time.perf_counter()
            last = event
        end = time.perf_counter()
        if isinstance(last, ErrorEvent):
            raise RuntimeError(f"astream ended with an error: {last.message}")
        assert isinstance(last, DoneEvent) and last.output == REPLY
        return Sample(start, end, first)


class HttpTurns:
    """One session, talked to through `POST /v1/sessions/{id}/chat` on the ASGI app."""

    def __init__(self, client: httpx.AsyncClient, path: str, body: Callable[[str], Any]) -> None:
        self.client, self.path, self.body = client, path, body

    async def turn(self, text: str) -> Sample:
        start = time.perf_counter()
        response = await self.client.post(self.path, json=self.body(text))
        end = time.perf_counter()
        if response.status_code >= 300:
            raise RuntimeError(f"POST {self.path}: {response.status_code} {response.text[:300]}")
        assert response.json()["output"] == REPLY
        return Sample(start, end)


def chat_route(app: Any) -> tuple[str, Callable[[str], Any]] | str:
    """The app's chat route and how to phrase a user message for it; or why there is none."""
    schema = app.openapi()
    paths = [p for p, ops in schema["paths"].items() if CHAT_ROUTE.match(p) and "post" in ops]
    if not paths:
        return "adapters.http.app has no POST /v1/sessions/{id}/chat route (yet)"
    path = paths[0]
    content = schema["paths"][path]["post"].get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema", {})
    properties = _resolve(schema, body_schema).get("properties", {})
    if "message" in properties:
        return path, lambda text: {"message": text}
    if "messages" in properties:
        return path, lambda text: {"messages": [{"role": "user", "content": text}]}
    if "content" in properties:
        return path, lambda text: {"role": "user", "content": text}
    return f"POST {path} takes none of `message`, `messages`, `content`: {sorted(properties)}"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf"):
        if key in node:  # e.g. a body that is one message or a batch: take the first object
            return next((_resolve(schema, n) for n in node[key] if "$ref" in n), {})
    return node


# The run ----------------------------------------------------------------------------------


def run(
    backend: str, plan: Plan, *, postgres_url: str, fake: FakeOpenAI, progress: Progress
) -> dict[str, Any]:
    """The figures of one backend."""
    with fresh(backend, "chat", postgres_url=postgres_url) as target:
        settings = Settings(
            database_url=target.url,
            default_provider="openai",
            openai_base_url=fake.openai_url,
            openai_api_key="bench",
            tenant_id=TENANT,  # the tenant the HTTP app serves
            actor=CTX.actor,
        )
        ledger = open_ledger(settings)
        try:
            return asyncio.run(_run(backend, ledger, settings, plan, fake, progress))
        finally:
            ledger.close()


async def _run(
    backend: str,
    ledger: Ledger,
    settings: Settings,
    plan: Plan,
    fake: FakeOpenAI,
    progress: Progress,
) -> dict[str, Any]:
    from adapters.http.app import create_app

    app = create_app(ledger, settings)
    route = chat_route(app)
    async with (
        httpx.AsyncClient(timeout=60) as client,
        httpx.AsyncClient(timeout=60) as closing,  # its connections die: keep them apart
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://chatledger", timeout=60
        ) as asgi,
    ):
        try:

            def subjects(title: str, names: tuple[str, ...]) -> list[Subject]:
                made: list[Subject] = []
                for name in names:
                    if name.startswith("direct_"):
                        stop = name == "direct_stream_stop"
                        direct = Direct(
                            closing if stop else client, fake.openai_url, drain=not stop
                        )
                        call = direct.json_turn if name == "direct_json" else direct.stream_turn
                        made.append(Subject(name, call))
                    elif name in ("achat", "astream"):
                        turns = ChatledgerTurns(ledger, f"{title} {name}")
                        made.append(Subject(name, getattr(turns, name)))
                    elif name == "http" and not isinstance(route, str):
                        path, body = route
                        sid = ledger.create_session(CTX, title=f"{title} http").id
                        url = re.sub(r"\{[^}]+\}", str(sid), path)
                        made.append(Subject(name, HttpTurns(asgi, url, body).turn))
                return made

            names = (
                "direct_json",
                "direct_stream",
                "direct_stream_stop",
                "achat",
                "astream",
                "http",
            )
            fake.set_delay(0)
            progress(f"{backend}: chat turns: {plan.chat_warmup} warm-up turns per subject")
            await _rounds(subjects("warm-up", names), plan.chat_warmup, fake)
            progress(
                f"{backend}: chat turns: {plan.chat_turns} rounds of"
                f" {', '.join(n for n in names if n != 'http' or not isinstance(route, str))}"
            )
            main = await _rounds(subjects("turns", names), plan.chat_turns, fake)
            progress(
                f"{backend}: first token: {plan.chat_first_token_turns} rounds,"
                f" {plan.chat_chunk_delay_ms:g} ms before each of {CHUNKS} chunks"
            )
            fake.set_delay(plan.chat_chunk_delay_ms)
            try:
                first = await _rounds(
                    subjects("first token", ("direct_stream", "astream")),
                    plan.chat_first_token_turns,
                    fake,
                )
            finally:
                fake.set_delay(0)
        finally:
            await ledger.chat_service.models.aclose()
    figures = _turn_figures(main, plan.chat_turns)
    if isinstance(route, str):
        figures["turn"]["http"] = {"skipped": route}
    figures["first_token"] = _first_token_figures(first, plan.chat_chunk_delay_ms)
    return figures


async def _rounds(subjects: list[Subject], rounds: int, fake: FakeOpenAI) -> list[Subject]:
    """`rounds` rounds, one turn per subject each, in an order that rotates every round."""
    order: list[Subject] = []
    fake.timings()  # forget what came before
    gc.collect()
    for r in range(rounds):
        shift = r % len(subjects)
        text = user_text(r + 1)
        for subject in subjects[shift:] + subjects[:shift]:
            subject.samples.append(await subject.turn(text))
            order.append(subject)
    timings = fake.timings()
    if len(timings) != len(order):  # a retried call: the split by phase would be wrong
        raise RuntimeError(f"{len(order)} turns but {len(timings)} provider requests")
    for subject, timing in zip(order, timings, strict=True):
        subject.server.append(timing)
    return subjects


# Figures ----------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 4)


def _turn_figures(subjects: list[Subject], turns: int) -> dict[str, Any]:
    turn = {s.name: Latency.of([x.end - x.start for x in s.samples]).as_dict() for s in subjects}
    base = turn["direct_stream"]
    overhead: dict[str, dict[str, float]] = {
        name: _overhead(turn[name], base)
        for name in ("direct_stream_stop", "achat", "astream", "http")
        if name in turn
    }
    overhead["direct_stream_over_direct_json"] = _overhead(base, turn["direct_json"])
    if "http" in turn:
        overhead["http_over_achat"] = _overhead(turn["http"], turn["achat"])
    tenth = max(1, turns // 10)
    growth: dict[str, Any] = {
        "first_turns": [1, tenth],
        "last_turns": [turns - tenth + 1, turns],
        "history_messages_first": [0, 2 * (tenth - 1)],
        "history_messages_last": [2 * (turns - tenth), 2 * (turns - 1)],
    }
    for s in subjects:
        times = [(x.end - x.start) * 1000 for x in s.samples]
        history = [2 * i for i in range(len(times))]
        slope = statistics.linear_regression(history, times).slope if len(times) > 2 else 0.0
        growth[s.name] = {
            "first_median_ms": round(statistics.median(times[:tenth]), 4),
            "last_median_ms": round(statistics.median(times[-tenth:]), 4),
            "us_per_history_message": round(slope * 1000, 3),
        }
    phases = {}
    for s in subjects:
        before = [t["received"] - x.start for x, t in zip(s.samples, s.server, strict=True)]
        provider = [t["end"] - t["received"] for t in s.server]
        after = [x.end - t["end"] for x, t in zip(s.samples, s.server, strict=True)]
        phases[s.name] = {
            "before_provider_median_ms": _ms(statistics.median(before)),
            "provider_median_ms": _ms(statistics.median(provider)),
            "after_provider_median_ms": _ms(statistics.median(after)),
            "before_provider_p99_ms": Latency.of(before).p99_ms,
            "after_provider_p99_ms": Latency.of(after).p99_ms,
        }
    request_bytes = {
        s.name: round(statistics.fmean(t["request_bytes"] for t in s.server)) for s in subjects
    }
    # A request from another port than the subject's previous one came on a new connection.
    connections = {
        s.name: 1 + _port_changes([t["client_port"] for t in s.server]) for s in subjects
    }
    messages_last = {s.name: s.server[-1]["messages"] for s in subjects}
    assert len(set(messages_last.values())) == 1, f"conversations diverged: {messages_last}"
    return {
        "turn": turn,
        "overhead": overhead,
        "phases": phases,
        "growth": growth,
        "request_bytes_mean": request_bytes,
        "tcp_connections": connections,
        "messages_sent_on_last_turn": next(iter(messages_last.values())),
    }


def _port_changes(ports: list[int]) -> int:
    return sum(a != b for a, b in itertools.pairwise(ports))


def _overhead(subject: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    return {
        "p50_ms": round(subject["median_ms"] - base["median_ms"], 3),
        "p99_ms": round(subject["p99_ms"] - base["p99_ms"], 3),
        "p50_ratio": round(subject["median_ms"] / base["median_ms"], 2),
        "p99_ratio": round(subject["p99_ms"] / base["p99_ms"], 2),
    }


def _first_token_figures(subjects: list[Subject], delay_ms: float) -> dict[str, Any]:
    figures: dict[str, Any] = {"chunk_delay_ms": delay_ms}
    for s in subjects:
        pairs = list(zip(s.samples, s.server, strict=True))
        first = [_first_content(x) for x, _ in pairs]
        figures[s.name] = {
            "first_content": Latency.of(
                [f - x.start for f, (x, _) in zip(first, pairs, strict=True)]
            ),
            "provider_first_token": Latency.of([t["first_content"] - x.start for x, t in pairs]),
            "first_content_after_provider": Latency.of(
                [f - t["first_content"] for f, (_, t) in zip(first, pairs, strict=True)]
            ),
            "turn": Latency.of([x.end - x.start for x, _ in pairs]),
        }
        figures[s.name] = {k: v.as_dict() for k, v in figures[s.name].items()}
    d, c = figures["direct_stream"], figures["astream"]
    figures["overhead"] = {
        "first_content": _overhead(c["first_content"], d["first_content"]),
        "first_content_after_provider": _overhead(
            c["first_content_after_provider"], d["first_content_after_provider"]
        ),
        "turn": _overhead(c["turn"], d["turn"]),
    }
    return figures


def _first_content(sample: Sample) -> float:
    if sample.first_content is None:
        raise RuntimeError("a streamed turn had no content")
    return sample.first_content


def describe_provider(plan: Plan) -> dict[str, Any]:
    return {
        "server": "bench/fake_openai.py: a bare ASGI app on uvicorn (h11), in its own process",
        "reply_words": WORDS,
        "reply_chars": len(REPLY),
        "stream_chunks": CHUNKS,
        "first_token_chunk_delay_ms": plan.chat_chunk_delay_ms,
        "model": MODEL,
    }
