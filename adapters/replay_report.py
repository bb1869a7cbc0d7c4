"""Batch evaluation: replay many sessions chosen by metadata, and report as JSON and HTML.

The HTML page is self-contained: a summary table (one row per session: turns,
identical turns, first divergent turn, tokens before and after) and, per
session, each turn's answers side by side with their differences marked.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio
from pydantic import BaseModel

from adapters.replay import ReplayOptions, ReplayReport, replay_session
from domain.context import CommandContext
from domain.errors import LimitExceededError
from projections.session_list import SessionQuery

if TYPE_CHECKING:
    from adapters.ledger import Ledger

Progress = Callable[[int, int], None]


class BatchReport(BaseModel):
    """Replays of every session a metadata filter selects."""

    metadata_filter: dict[str, Any]
    options: dict[str, Any]
    reports: list[ReplayReport]
    sessions: int
    turns: int
    identical_turns: int
    identical_sessions: int
    original_output_tokens: int
    replayed_output_tokens: int

    @classmethod
    def of(
        cls, reports: list[ReplayReport], *, metadata_filter: dict[str, Any], options: ReplayOptions
    ) -> BatchReport:
        """The batch of these reports, with its totals."""
        turns = [t for r in reports for t in r.turns]
        return cls(
            metadata_filter=metadata_filter,
            options=asdict(options),
            reports=reports,
            sessions=len(reports),
            turns=len(turns),
            identical_turns=sum(t.identical for t in turns),
            identical_sessions=sum(r.identical for r in reports),
            original_output_tokens=sum(t.original_tokens["output"] for t in turns),
            replayed_output_tokens=sum(t.replayed_tokens["output"] for t in turns),
        )


async def replay_batch(
    ledger: Ledger,
    ctx: CommandContext,
    metadata_filter: dict[str, Any],
    options: ReplayOptions,
    *,
    on_progress: Progress | None = None,
    max_sessions: int | None = None,
) -> BatchReport:
    """Replay each session whose metadata contains `metadata_filter` (replays excluded);
    more than `max_sessions` of them is refused (413) before any is replayed."""
    sessions = []
    cursor = None
    while True:
        query = SessionQuery(
            tenant_id=ctx.tenant_id, metadata_filter=metadata_filter, limit=500, cursor=cursor
        )
        page = await anyio.to_thread.run_sync(ledger.list_sessions, query)
        sessions += [s for s in page.data if "replay_of" not in s.metadata]
        if (cursor := page.next_cursor) is None:
            break
        if max_sessions is not None and len(sessions) > max_sessions:
            break
    if max_sessions is not None and len(sessions) > max_sessions:
        raise LimitExceededError(
            "metadata_filter", f"more than {max_sessions} sessions match, the limit per batch"
        )
    reports: list[ReplayReport] = []
    for done, summary in enumerate(sessions, start=1):
        reports.append(await replay_session(ledger, ctx, UUID(summary.id), options))
        if on_progress is not None:
            on_progress(done, len(sessions))
    return BatchReport.of(reports, metadata_filter=metadata_filter, options=options)


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3}.same{color:#2a7}.differ{color:#c33}
table.diff{font-family:ui-monospace,monospace;font-size:12px}.diff_add{background:#dfd}
.diff_chg{background:#ffc}.diff_sub{background:#fdd}
"""


def render_html(batch: BatchReport) -> str:
    """The batch as one self-contained HTML page."""
    e = html.escape
    rows = "".join(_summary_row(r) for r in batch.reports)
    differ = difflib.HtmlDiff(wrapcolumn=70)
    sections = []
    for report in batch.reports:
        turns = "".join(
            f"<h3>Turn {t.index}: {e(t.input[:120])}</h3>"
            f"<p>finish {e(str(t.original_finish_reason))} → {e(str(t.replayed_finish_reason))};"
            f" output tokens {t.original_tokens['output']} → {t.replayed_tokens['output']};"
            f" latency {t.original_latency_ms:.0f} → {t.replayed_latency_ms:.0f} ms;"
            f" first divergence {'none' if t.first_divergence is None else t.first_divergence}</p>"
            + differ.make_table(
                t.original.splitlines() or [""],
                t.replayed.splitlines() or [""],
                "original",
                "replayed",
            )
            for t in report.turns
        )
        sections.append(
            f"<h2 id='{e(report.source_session_id)}'>Session {e(report.source_session_id)}</h2>"
            f"<p>branch {e(report.branch_session_id)} ({e(report.mode)})</p>{turns}"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>chatledger replay</title>"
        f"<style>{STYLE}</style></head><body><h1>Replay report</h1>"
        f"<p>{batch.sessions} sessions, {batch.identical_turns}/{batch.turns} turns identical,"
        f" filter <code>{e(str(batch.metadata_filter))}</code>, options"
        f" <code>{e(str(batch.options))}</code></p>"
        "<table><tr><th>session</th><th>turns</th><th>identical</th><th>first divergent turn</th>"
        f"<th>result</th><th>output tokens</th></tr>{rows}</table>{''.join(sections)}</body></html>"
    )


def _summary_row(report: ReplayReport) -> str:
    e = html.escape
    verdict = ("same", "identical") if report.identical else ("differ", "differs")
    divergent = "" if report.first_divergent_turn is None else str(report.first_divergent_turn)
    before = sum(t.original_tokens["output"] for t in report.turns)
    after = sum(t.replayed_tokens["output"] for t in report.turns)
    return (
        f"<tr><td><a href='#{e(report.source_session_id)}'>{e(report.source_session_id)}</a></td>"
        f"<td>{len(report.turns)}</td><td>{sum(t.identical for t in report.turns)}</td>"
        f"<td>{divergent}</td><td class='{verdict[0]}'>{verdict[1]}</td>"
        f"<td>{before} \u2192 {after}</td></tr>"
    )
