"""Routes that replay recorded conversations: one session, or a batch chosen by metadata.

A replay forks the session and re-runs its turns into the branch (see
`adapters.replay`). The answer is the report as JSON, or, when `Accept`
prefers `text/html`, the self-contained HTML page of `render_html` (one session
is shown as a batch of one).

These endpoints are `async` and await the replay coroutines on the server's
event loop, as `routes_chat.py` runs turns: the models share one HTTP client
bound to the loop that first used it, so calling `Ledger.replay` (which runs on
the ledger's private loop thread) would break provider calls made after a chat
on this server. The replay coroutines move their own database work to threads.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse

from adapters.http.context import ContextDep, LedgerDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.schemas_replay import ReplayIn, ReplaysIn
from adapters.ledger import Ledger, session_uuid
from adapters.replay import ReplayOptions, ReplayReport, replay_session
from adapters.replay_report import BatchReport, render_html, replay_batch
from adapters.settings import Settings

router = APIRouter(tags=["replay"], dependencies=[Depends(json_input_guard)])

HTML_MEDIA_TYPE = "text/html"

_REPLAY_PROBLEMS = {
    404: "No such session in this tenant (or a malformed id)",
    422: "Invalid input (`field` names it), or a provider that is not configured",
    502: "The model provider failed during a counterfactual replay (the branch keeps the "
    "turns replayed until then)",
}


def _ok(what: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"{what} as JSON, or as an HTML page when `Accept` prefers text/html",
            "content": {HTML_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    }


def wants_html(accept: str | None) -> bool:
    """Whether `Accept` ranks text/html above application/json (JSON when equal or absent)."""
    quality: dict[str, float] = {}
    for item in (accept or "").split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(quality.get(media.lower(), 0.0), q)
    html = quality.get(HTML_MEDIA_TYPE, quality.get("text/*", 0.0))
    json = quality.get("application/json", quality.get("application/*", quality.get("*/*", 0.0)))
    return html > 0 and html > json


def _check(ledger: Ledger, options: ReplayOptions) -> None:
    """Refuse a provider that cannot be served now, before a branch is written."""
    if options.provider is not None:
        ledger.chat_service.models.check(options.provider)


def one_session_batch(report: ReplayReport, options: ReplayOptions) -> BatchReport:
    """One session's report as a batch of one (the shape `render_html` draws)."""
    return BatchReport.of([report], metadata_filter={}, options=options)


@router.post(
    "/v1/sessions/{session_id}/replay",
    response_model=ReplayReport,
    responses={
        **_ok("The replay report"),
        **problem_responses(404, 413, 415, 422, 429, 502, 504, descriptions=_REPLAY_PROBLEMS),
    },
    summary="Replay a session",
)
async def replay(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    body: ReplayIn | None = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    """Fork the session at its first version and re-run its history into the branch,
    comparing every turn's answer with the recorded one (first divergence, diff, tokens,
    latency, finish reason). `identical` holds when every answer and the whole transcript
    are the same. The branch's metadata names the source (`replay_of`)."""
    options = (body or ReplayIn()).to_options()
    sid = session_uuid(session_id)
    await anyio.to_thread.run_sync(_check, ledger, options)
    report = await replay_session(ledger, ctx, sid, options)
    if wants_html(accept):
        return HTMLResponse(render_html(one_session_batch(report, options)))
    return report


@router.post(
    "/v1/replays",
    response_model=BatchReport,
    responses={
        **_ok("The batch report"),
        **problem_responses(413, 415, 422, 429, 502, 504, descriptions=_REPLAY_PROBLEMS),
    },
    summary="Replay the sessions a metadata filter selects",
)
async def replay_many(
    ledger: LedgerDep,
    ctx: ContextDep,
    body: ReplaysIn,
    request: Request,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    """Replay, one after the other, every session of this tenant whose metadata contain
    `metadata_filter` (earlier replays' branches excluded), with totals over all turns."""
    options = body.to_options()
    await anyio.to_thread.run_sync(_check, ledger, options)
    settings: Settings = request.app.state.settings
    batch = await replay_batch(
        ledger, ctx, body.metadata_filter, options, max_sessions=settings.max_replay_sessions
    )
    if wants_html(accept):
        return HTMLResponse(render_html(batch))
    return batch
