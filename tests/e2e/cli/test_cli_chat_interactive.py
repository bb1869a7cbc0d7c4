"""`chatledger chat SESSION_ID` on a terminal: the interactive chat.

Driven twice over: in-process with stdin fed and the terminal check patched, and for real as
a child process on a pseudo-terminal (prompts, streaming, `/exit`, Ctrl-C mid-reply).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import Result

from adapters.cli import chat
from tests.support.fake_provider import Fail, FakeProvider, Reply

Run = Callable[..., Result]
RunJson = Callable[..., Any]
OneLineError = Callable[..., str]


def texts(chatledger_json: RunJson, session_id: str) -> list[tuple[str, str]]:
    history = chatledger_json("history", session_id)["data"]
    return [(m["role"], "".join(block["text"] for block in m["content"])) for m in history]


@pytest.fixture
def on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat, "stdin_is_terminal", lambda: True)


@pytest.mark.usefixtures("on_a_terminal")
def test_an_interactive_chat_takes_turns_until_exit(
    chatledger: Run, chatledger_json: RunJson
) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "Desk")["id"]

    result = chatledger("chat", session_id, stdin="first question\n\nsecond question\n/exit\n")

    history = texts(chatledger_json, session_id)
    assert [role for role, _ in history] == ["user", "assistant", "user", "assistant"]
    assert (history[0][1], history[2][1]) == ("first question", "second question")
    assert result.stdout == (
        f"you> {history[1][1]}\n"
        "you> you> "  # the empty line is not a turn
        f"{history[3][1]}\n"
        "you> "
    )
    notes = result.stderr.splitlines()
    assert notes[0] == "chatting in “Desk”; /exit or Ctrl-D to leave"
    assert [line.split(" · ")[0] for line in notes[1:]] == ["offline/offline-echo"] * 2


@pytest.mark.usefixtures("on_a_terminal")
def test_a_failed_turn_is_reported_and_the_chat_goes_on_until_end_of_input(
    chatledger: Run, chatledger_json: RunJson, fake_provider: FakeProvider
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    fake_provider.script(Fail(400, message="refused once"), Reply(text="Back again."))
    env = {
        "CHATLEDGER_DEFAULT_PROVIDER": "openai",
        "OPENAI_BASE_URL": fake_provider.openai_url,
        "OPENAI_API_KEY": "test",
    }

    result = chatledger("chat", session_id, stdin="one\ntwo\n", env=env)  # ends with Ctrl-D

    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "refused once" in errors[0]
    assert result.stdout == "you> you> Back again.\nyou> \n"
    assert texts(chatledger_json, session_id) == [("user", "two"), ("assistant", "Back again.")]
    types = [e["type"] for e in chatledger_json("events", session_id)["data"]]
    assert types.count("Session.CompletionFailed") == 1


@pytest.mark.usefixtures("on_a_terminal")
@pytest.mark.parametrize("option", [["--json"], ["--idempotency-key", "k"]])
def test_one_turn_options_are_refused_in_an_interactive_chat(
    chatledger: Run, chatledger_json: RunJson, one_line_error: OneLineError, option: list[str]
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]

    result = chatledger("chat", session_id, *option, exit_code=2)

    one_line_error(result, 2, f"{option[0]} needs a MESSAGE")


class Terminal:
    """`chatledger ARGS` as a child process on a pseudo-terminal: what it wrote, and typing."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.output = ""
        self.position = 0

    def read_until(self, text: str, timeout: float = 30) -> str:
        """What was written from the last match up to and including `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output[self.position :]:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(remaining, 0))
            try:
                chunk = os.read(self.master, 4096) if ready else b""
            except OSError:  # EIO: the child has closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(
                    f"no {text!r} (exit {self.process.poll()}); the terminal shows {self.output!r}"
                )
            self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        end = self.output.index(text, self.position) + len(text)
        seen, self.position = self.output[self.position : end], end
        return seen

    def type(self, line: str) -> None:
        os.write(self.master, f"{line}\n".encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def terminal(database_url: str) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(session_id: str, extra_env: dict[str, str] | None = None) -> Terminal:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATLEDGER_", "OTEL_"))}
        env |= {"TERM": "dumb", **(extra_env or {})}
        env["CHATLEDGER_SECRETS_DIR"] = os.environ["CHATLEDGER_SECRETS_DIR"]  # the same keys
        opened.append(Terminal(["chat", session_id, "--database-url", database_url], env))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_a_chat_on_a_real_terminal_prompts_streams_and_exits(
    chatledger_json: RunJson, terminal: Callable[..., Terminal]
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    term = terminal(session_id)

    term.read_until("you> ")
    term.type("hello over a pty")
    first = term.read_until("you> ")
    term.type("and again")
    second = term.read_until("you> ")
    term.type("/exit")

    assert term.process.wait(timeout=30) == 0
    history = texts(chatledger_json, session_id)
    assert [text for _, text in history[::2]] == ["hello over a pty", "and again"]
    assert history[1][1] in first and history[3][1] in second
    assert "offline/offline-echo" in first and "offline/offline-echo" in second


def test_ctrl_c_mid_reply_hides_the_rest_and_the_turn_is_still_recorded(
    chatledger_json: RunJson, terminal: Callable[..., Terminal], fake_provider: FakeProvider
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    words = "apple01 banana2 cherry3 damson4"
    fake_provider.script(Reply(text=words, chunks=4, stall_after=2, stall_s=3))
    term = terminal(
        session_id,
        {
            "CHATLEDGER_DEFAULT_PROVIDER": "openai",
            "OPENAI_BASE_URL": fake_provider.openai_url,
            "OPENAI_API_KEY": "test",
        },
    )

    term.read_until("you> ")
    term.type("fruit, slowly")
    term.read_until("banana2")  # streamed while the provider is still answering
    term.process.send_signal(signal.SIGINT)
    interrupted = term.read_until("you> ")
    term.type("/exit")

    assert term.process.wait(timeout=30) == 0
    assert "interrupted: the reply is hidden" in interrupted
    assert "cherry3" not in interrupted
    assert "openai/" in interrupted  # the summary once the turn was recorded
    assert texts(chatledger_json, session_id) == [
        ("user", "fruit, slowly"),
        ("assistant", words),
    ]


def test_a_second_ctrl_c_cancels_the_turn_and_exits(
    chatledger_json: RunJson, terminal: Callable[..., Terminal], fake_provider: FakeProvider
) -> None:
    session_id = chatledger_json("sessions", "create")["id"]
    fake_provider.script(
        Reply(text="apple01 banana2 cherry3 damson4", chunks=4, stall_after=2, stall_s=5)
    )
    term = terminal(
        session_id,
        {
            "CHATLEDGER_DEFAULT_PROVIDER": "openai",
            "OPENAI_BASE_URL": fake_provider.openai_url,
            "OPENAI_API_KEY": "test",
        },
    )

    term.read_until("you> ")
    term.type("fruit, slowly")
    term.read_until("banana2")
    term.process.send_signal(signal.SIGINT)
    term.read_until("Ctrl-C again to stop waiting")
    term.process.send_signal(signal.SIGINT)

    assert term.process.wait(timeout=30) == 130
    assert "cherry3" not in term.output
    events = chatledger_json("events", session_id)["data"]
    assert [event["type"] for event in events] == ["Session.Created"]  # cancelled: not recorded
