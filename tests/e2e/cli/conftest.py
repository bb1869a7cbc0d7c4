"""Fixtures for driving the `chatledger` command in-process with Typer's `CliRunner`.

Tests that take `chatledger` run on SQLite and PostgreSQL (`database_url` is
parametrised). Stdout and stderr are captured apart (Click 8.2+ semantics, which
Typer vendors; there is no `mix_stderr`): `result.stdout` is what a script reads,
`result.stderr` holds the error line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import metrics, trace
from typer.testing import CliRunner, Result

from adapters.cli import app

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def global_providers(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What `serve` installs as OpenTelemetry's global providers, recorded instead of
    installed: tests never set the process-wide providers."""
    installed: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    monkeypatch.setattr(metrics, "set_meter_provider", installed.append)
    return installed


def _invoke(
    args: list[str], *, exit_code: int, stdin: str | None, env: dict[str, str] | None
) -> Result:
    result = CliRunner().invoke(app, args, input=stdin, env=env)
    assert result.exit_code == exit_code, (
        f"exit {result.exit_code}, expected {exit_code}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
    )
    return result


@pytest.fixture
def run_cli() -> Run:
    """`chatledger ARGS` as given, asserting its exit code (0 unless `exit_code=`)."""

    def run(
        *args: str, exit_code: int = 0, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return _invoke(list(args), exit_code=exit_code, stdin=stdin, env=env)

    return run


@pytest.fixture
def chatledger(database_url: str) -> Run:
    """`chatledger ARGS --database-url URL` on this test's database, asserting its exit code."""

    def run(
        *args: str, exit_code: int = 0, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        argv = [*args, "--database-url", database_url]
        return _invoke(argv, exit_code=exit_code, stdin=stdin, env=env)

    return run


@pytest.fixture
def chatledger_json(chatledger: Run) -> Callable[..., Any]:
    """A command with `--json`: its stdout parsed, which must be exactly one JSON document."""

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
        result = chatledger(*args, "--json", stdin=stdin, env=env)
        assert result.stderr == ""
        return json.loads(result.stdout)

    return run


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """Check that a command failed with an exit code and one `error: …` line, no traceback."""

    def check(result: Result, exit_code: int, *fragments: str) -> str:
        assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), lines[0]
        assert "Traceback" not in result.output
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        return lines[0]

    return check
