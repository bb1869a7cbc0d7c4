"""Where a chat turn's time goes: pyinstrument over `Ledger.achat` turns.

`python -m bench.profile_chat [--backend sqlite|postgres] [--turns 200]` opens a ledger on a
fresh database, pointed at the fake provider (`bench.fake_openai`, its own process, so
none of its work is in the profile), warms up, then profiles `--turns` turns of one
session (a user message of ~12 words, a 50-word reply in 10 chunks; the history grows
by two messages a turn, as in `python -m bench`).

`ChatService` does its database work on worker threads (`anyio.to_thread.run_sync`), and
pyinstrument samples one thread only. So, while profiling, `anyio.to_thread.run_sync`
runs its function inline on the event loop's thread: the whole turn is one stack, and
time the loop spends waiting (on the provider, in `select`) shows as such. Before the
profile, `--ab` turns alternate between the real hops and inlined ones on two sessions,
which says what the hops themselves cost.

Printed: the time by chatledger function (inclusive), the hottest functions (self time),
and pyinstrument's tree; text, HTML and the two tables go to
`bench/results/raw/profile-chat-<backend>.{txt,html}`. Needs `pyinstrument`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio.to_thread

from bench.chat_ledger import chat_ledger
from bench.chat_turns import CTX, TENANT, user_text
from bench.databases import DEFAULT_POSTGRES_URL
from bench.report import RESULTS

T = TypeVar("T")
OWN = ("domain/", "adapters/", "projections/")


@contextmanager
def inline_threads() -> Iterator[None]:
    """`anyio.to_thread.run_sync(f, *args)` calls `f(*args)` right there, on the loop."""
    real = anyio.to_thread.run_sync

    async def run_sync(func: Callable[..., T], *args: Any, **_: Any) -> T:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = real


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_chat", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--ab", type=int, default=100, help="turns per side of the hop A/B")
    parser.add_argument("--interval", type=float, default=0.0005, help="sampling interval (s)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--callers",
        action="append",
        default=[],
        metavar="TEXT",
        help="also print the heaviest stacks into functions whose name contains TEXT",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    with chat_ledger(
        args.backend, "profile", postgres_url=args.postgres_url, tenant_id=TENANT
    ) as ledger:
        profiler = Profiler(interval=args.interval, async_mode="disabled")

        async def turns(session: Any, count: int, first: int = 1) -> list[float]:
            times = []
            for i in range(first, first + count):
                start = time.perf_counter()
                await ledger.achat(CTX, session, user_text(i))
                times.append(time.perf_counter() - start)
            return times

        async def run() -> dict[str, list[float]]:
            try:
                await turns(ledger.create_session(CTX, title="warm-up").id, 10)
                hops: dict[str, list[float]] = {"threads": [], "inline": []}
                a, b = (ledger.create_session(CTX, title=f"ab {x}").id for x in "ab")
                for i in range(1, args.ab + 1):
                    hops["threads"] += await turns(a, 1, i)
                    with inline_threads():
                        hops["inline"] += await turns(b, 1, i)
                session = ledger.create_session(CTX, title="profiled").id
                gc.collect()
                with inline_threads():
                    profiler.start()
                    await turns(session, args.turns)
                    profiler.stop()
                return hops
            finally:
                await ledger.chat_service.models.aclose()

        hops = asyncio.run(run())

    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None
    lines = [
        f"{args.turns} turns of achat on {args.backend}: {session.duration:.2f} s profiled"
        f" ({session.duration / args.turns * 1000:.2f} ms a turn)",
        "",
        f"Worker-thread hops, A/B over {args.ab} turns each (median ms):"
        f" real {statistics.median(hops['threads']) * 1000:.2f},"
        f" inlined {statistics.median(hops['inline']) * 1000:.2f}",
        "",
        "chatledger's functions, time including callees (ms a turn, % of the profile):",
        *_table(_inclusive(root, own_only=True), args.turns, session.duration, args.top),
        "",
        "By package, own time; C functions count for their caller (ms a turn, %):",
        *_table(_packages(root), args.turns, session.duration, args.top),
        "",
        "Hottest functions, own time (ms a turn, % of the profile):",
        *_table(_self_times(root), args.turns, session.duration, args.top),
        "",
    ]
    for text in args.callers:
        lines += [f"Heaviest stacks into *{text}* (ms a turn):"]
        for stack, t in _stacks_into(root, text)[:5]:
            lines += [f"  {t / args.turns * 1000:7.2f}  " + " > ".join(stack[-8:])]
        lines += [""]
    tree = profiler.output_text(unicode=True, show_all=False)
    raw = RESULTS / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"profile-chat-{args.backend}.txt").write_text("\n".join(lines) + "\n" + tree)
    (raw / f"profile-chat-{args.backend}.html").write_text(profiler.output_html())
    print("\n".join(lines))
    print(tree)


def _name(frame: Any) -> str:
    path = frame.file_path_short or ""
    if path.endswith(".py"):
        path = path[:-3].replace("/", ".")
    return f"{path}:{frame.function}" if path else str(frame.function)


def _own(frame: Any) -> bool:
    path = (frame.file_path or "").replace("\\", "/")
    return "/site-packages/" not in path and any(f"/{p}" in path for p in OWN)


def _inclusive(root: Any, *, own_only: bool) -> dict[str, float]:
    """Time per function including callees, each stack counted once (recursion too)."""
    totals: dict[str, float] = {}

    def walk(frame: Any, above: frozenset[str]) -> None:
        name = _name(frame)
        if name not in above and (_own(frame) or not own_only):
            totals[name] = totals.get(name, 0.0) + frame.time
        for child in frame.children:
            walk(child, above | {name})

    walk(root, frozenset())
    return totals


def _package(frame: Any) -> str:
    """`pydantic`, `sqlite3`, `adapters.llm` …: where a frame's code lives."""
    path = (frame.file_path or "").replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for own in OWN:
        if f"/{own}" in path:
            rest = path.rsplit(f"/{own}", 1)[1].split("/")
            return own.rstrip("/") + ("." + rest[0] if len(rest) > 1 else "")
    if not path or path.startswith("<"):  # `[self]` leaves and built-ins: their caller's
        return ""
    return "stdlib:" + path.rsplit("/", 1)[-1].removesuffix(".py")


def _packages(root: Any) -> dict[str, float]:
    """Own time by package; C functions count for the package that called them, except the
    event loop's wait for I/O (`epoll.poll`), shown as such."""
    totals: dict[str, float] = {}
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        frame, caller = stack.pop()
        package = _package(frame) or caller
        if frame.function == "epoll.poll":
            package = "(waiting for I/O: epoll)"
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            totals[package] = totals.get(package, 0.0) + own
        stack.extend((child, package) for child in frame.children)
    return totals


def _self_times(root: Any) -> dict[str, float]:
    """Time spent in each function itself (pyinstrument's `[self]` leaves go to their parent)."""
    totals: dict[str, float] = {}
    stack: list[tuple[Any, str]] = [(root, _name(root))]
    while stack:
        frame, parent = stack.pop()
        synthetic = frame.is_synthetic_leaf or frame.function == "[self]"
        name = parent if synthetic else _name(frame)
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            totals[name] = totals.get(name, 0.0) + own
        stack.extend((child, name) for child in frame.children)
    return totals


def _stacks_into(root: Any, text: str) -> list[tuple[list[str], float]]:
    """The call stacks (outermost first) ending in a function named like `text`, heaviest first."""
    found: dict[tuple[str, ...], float] = {}

    def walk(frame: Any, stack: tuple[str, ...]) -> None:
        name = _name(frame)
        if text in name:
            key = (*stack, name)
            found[key] = found.get(key, 0.0) + frame.time
            return
        for child in frame.children:
            walk(child, (*stack, name))

    walk(root, ())
    return sorted(((list(k), v) for k, v in found.items()), key=lambda kv: -kv[1])


def _table(totals: dict[str, float], turns: int, duration: float, top: int) -> list[str]:
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [f"  {t / turns * 1000:7.2f} {t / duration * 100:5.1f}%  {name}" for name, t in rows]


if __name__ == "__main__":
    main()
