"""`chatledger replay`: re-run recorded conversations and compare the answers, turn by turn.

One session (`ID`) or a batch (`--filter JSON`: every session whose metadata
contain it, earlier replays' branches excluded). Each replay forks its session
and re-runs the history into the branch: `deterministic` answers every turn
from its record (no provider is called) and must give the same transcript;
`counterfactual` asks again, with another provider, model, agent, situation or
settings. The result is a report, so the command exits 0 whether the answers
match or not and says `identical` or `differs` for every turn; `--json`,
`--report` and `--html` give it as the HTTP API's JSON and as its HTML page.
A batch shows a progress bar on stderr when stderr is a terminal. This command
is an entry point: it builds telemetry from `OTEL_*`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters.cli.database import (
    command_context,
    describe_validation,
    load_settings,
    opened_ledger,
)
from adapters.cli.errors import CliInputError
from adapters.cli.files import writable_path, write_text
from adapters.cli.options import Actor, AsJson, DatabaseUrl, Tenant, json_object
from adapters.cli.otel import command_telemetry
from adapters.cli.output import compact, console, emit, new_table
from adapters.http.schemas_chat import SettingsFields
from adapters.replay import ReplayMode, ReplayOptions, ReplayReport
from adapters.replay_report import BatchReport, render_html

INPUT_CHARS = 40
"""Longest part of a turn's input the table shows."""


def replay_sessions(
    session_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ID", help="The session to replay (or --filter).", show_default=False
        ),
    ] = None,
    metadata_filter: Annotated[
        str | None,
        typer.Option(
            "--filter",
            metavar="JSON",
            help="Replay every session whose metadata contain this JSON object ({} for all).",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        ReplayMode,
        typer.Option(
            help="deterministic: answer each turn from its record; counterfactual: ask again."
        ),
    ] = "deterministic",
    provider: Annotated[
        str | None,
        typer.Option(help="Counterfactual: the provider to ask.", show_default=False),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Counterfactual: the model to ask.", show_default=False)
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(help="Counterfactual: the branch's agent (id).", show_default=False),
    ] = None,
    situation: Annotated[
        str | None,
        typer.Option(help="Counterfactual: the branch's situation.", show_default=False),
    ] = None,
    call_settings: Annotated[
        str | None,
        typer.Option(
            "--settings",
            metavar="JSON",
            help="Counterfactual: settings over each turn's recorded ones,"
            ' e.g. {"temperature": 0}.',
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="Also write the report as JSON to FILE.", show_default=False
        ),
    ] = None,
    html: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Also write the report as an HTML page to FILE.",
            show_default=False,
        ),
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Replay a session (ID) or those a metadata filter selects, comparing every answer.

    Each replay forks the session and re-runs its turns into the branch. Exits 0 whether
    the answers are identical or differ: the report says which, turn by turn.
    """
    if (session_id is None) == (metadata_filter is None):
        raise CliInputError("give a session ID or --filter JSON (exactly one)")
    options = replay_options(mode, provider, model, agent, situation, call_settings)
    chosen = json_object("--filter", metadata_filter)
    report_path = None if report is None else writable_path("--report", report)
    html_path = None if html is None else writable_path("--html", html)
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with (
        command_telemetry(os.environ) as telemetry,
        opened_ledger(settings, telemetry=telemetry) as ledger,
    ):
        ctx = command_context(settings)
        if chosen is None:
            assert session_id is not None
            single = ledger.replay(ctx, session_id, **options)
            batch = BatchReport.of([single], metadata_filter={}, options=ReplayOptions(**options))
        else:
            batch = showing_progress(
                lambda progress: ledger.replay_batch(ctx, chosen, on_progress=progress, **options)
            )
    out: BaseModel = batch if chosen is not None else batch.reports[0]
    if report_path is not None:
        write_text(report_path, out.model_dump_json(indent=2) + "\n")
        typer.echo(f"wrote the report to {report_path}", err=True)
    if html_path is not None:
        write_text(html_path, render_html(batch))
        typer.echo(f"wrote the HTML report to {html_path}", err=True)
    if chosen is None:
        emit(batch.reports[0], as_json, render_report)
    else:
        emit(batch, as_json, render_batch)


COUNTERFACTUAL_ONLY = ("--provider", "--model", "--agent", "--situation", "--settings")


def replay_options(
    mode: ReplayMode,
    provider: str | None,
    model: str | None,
    agent: str | None,
    situation: str | None,
    call_settings: str | None,
) -> dict[str, Any]:
    """`Ledger.replay`'s options; deterministic replay refuses the counterfactual ones."""
    values = (provider, model, agent, situation, call_settings)
    given = dict(zip(COUNTERFACTUAL_ONLY, values, strict=True))
    if mode == "deterministic" and (named := [o for o, v in given.items() if v is not None]):
        raise CliInputError(
            f"{' and '.join(named)}: for counterfactual replay only (add --mode counterfactual)"
        )
    try:
        fields = SettingsFields.model_validate(json_object("--settings", call_settings) or {})
    except ValidationError as error:
        raise CliInputError(f"--settings: {describe_validation(error)}") from None
    return {
        "mode": mode,
        "provider": provider,
        "model": model,
        "agent_id": agent,
        "situation": situation,
        "settings": fields.given_settings(),
    }


Progressing = Callable[[int, int], None]


def showing_progress(run: Callable[[Progressing | None], BatchReport]) -> BatchReport:
    """`run` with a progress bar on stderr fed after every session, when stderr is a terminal."""
    out = console(stderr=True)
    if not out.is_terminal:
        return run(None)
    columns: list[Any] = [
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task("replay", total=None)
        return run(lambda done, total: progress.update(task, completed=done, total=total))


def verdict(identical: bool) -> str:
    return "identical" if identical else "differs"


def output_tokens(before: int, after: int) -> str:
    return f"{before} → {after}"


def turns_table(reports: list[ReplayReport], *, with_session: bool) -> Table:
    """One row per turn: identical or not, where it first differs, tokens, finish reason."""
    table = new_table("turns")
    if with_session:
        table.add_column("session", no_wrap=True)
    table.add_column("turn", justify="right")
    table.add_column("input", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("first divergence", justify="right")
    table.add_column("output tokens", no_wrap=True)
    table.add_column("finish", no_wrap=True)
    for report in reports:
        for turn in report.turns:
            divergence = "" if turn.first_divergence is None else f"char {turn.first_divergence}"
            cells = [
                str(turn.index),
                compact(turn.input, INPUT_CHARS),
                verdict(turn.identical),
                divergence,
                output_tokens(turn.original_tokens["output"], turn.replayed_tokens["output"]),
                f"{turn.original_finish_reason or '-'} → {turn.replayed_finish_reason or '-'}",
            ]
            table.add_row(*([report.source_session_id] if with_session else []), *cells)
    return table


def conclusion(report: ReplayReport) -> str:
    """One line: identical, or where it first differs."""
    same = sum(t.identical for t in report.turns)
    if report.identical:
        return f"identical: {same}/{len(report.turns)} turns and the transcript are the same"
    if report.first_divergent_turn is None:
        return "differs: every answer is the same, but the transcript is not"
    return (
        f"differs: first at turn {report.first_divergent_turn};"
        f" {same}/{len(report.turns)} turns identical"
    )


def render_report(report: ReplayReport) -> list[RenderableType]:
    asked = " ".join(
        f"{k} {v}" for k, v in (("provider", report.provider), ("model", report.model)) if v
    )
    return [
        f"replay of {report.source_session_id} ({report.mode}{', ' + asked if asked else ''})"
        f" into {report.branch_session_id}",
        turns_table([report], with_session=False),
        conclusion(report),
    ]


def render_batch(batch: BatchReport) -> list[RenderableType]:
    if not batch.reports:
        return [
            f"no sessions to replay: none has metadata containing {compact(batch.metadata_filter)}"
        ]
    sessions = new_table("sessions")
    for column in ("session", "branch", "turns", "identical turns", "first divergent turn"):
        sessions.add_column(column, no_wrap=column in ("session", "branch"))
    sessions.add_column("result", no_wrap=True)
    sessions.add_column("output tokens", no_wrap=True)
    for report in batch.reports:
        divergent = report.first_divergent_turn
        sessions.add_row(
            report.source_session_id,
            report.branch_session_id,
            str(len(report.turns)),
            str(sum(t.identical for t in report.turns)),
            "" if divergent is None else str(divergent),
            verdict(report.identical),
            output_tokens(
                sum(t.original_tokens["output"] for t in report.turns),
                sum(t.replayed_tokens["output"] for t in report.turns),
            ),
        )
    differing = batch.sessions - batch.identical_sessions
    summary = (
        f"{'differs' if differing else 'identical'}: {batch.identical_sessions}/{batch.sessions}"
        f" sessions and {batch.identical_turns}/{batch.turns} turns identical; output tokens"
        f" {output_tokens(batch.original_output_tokens, batch.replayed_output_tokens)}"
    )
    return [sessions, turns_table(batch.reports, with_session=True), summary]
