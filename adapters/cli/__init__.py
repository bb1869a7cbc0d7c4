"""The `chatledger` command line (Typer): sessions, agents, messages, chat, events, time
travel, a call's exact context, diffs, fork/copy/merge, export/import, replay, summaries,
projections, API keys, the audit trail, erasure, verify/digest, serve.

Every command takes `--database-url` and builds `Settings` once (its options
over the environment), opens the ledger, does one thing and closes it. Output
is a readable table, or one JSON document in the HTTP API's shapes with
`--json`. Failures are one line on stderr (`errors.py`): exit 2 for usage and
input, 1 for anything else. Each command group lives in its own module.
"""

from __future__ import annotations

import typer

from adapters.cli import (
    agents,
    audit,
    branches,
    bundles,
    call_context,
    chat,
    erasure,
    events,
    history,
    integrity,
    keys,
    projections,
    replay,
    serve,
    sessions,
    summaries,
)
from adapters.cli.errors import ChatledgerGroup

app = typer.Typer(
    name="chatledger",
    cls=ChatledgerGroup,
    help="Chat sessions stored as an append-only event log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(sessions.app, name="sessions")
app.add_typer(agents.app, name="agents")
app.command("chat")(chat.chat)
app.command("history")(history.history)
app.command("append")(history.append)
app.command("clear")(history.clear)
app.command("events")(events.events)
app.command("show")(events.show)
app.command("context")(call_context.context)
app.command("diff")(branches.diff_session)
app.command("fork")(branches.fork_session)
app.command("copy")(branches.copy_session)
app.command("merge")(branches.merge_sessions)
app.command("export")(bundles.export_session)
app.command("import")(bundles.import_session)
app.command("replay")(replay.replay_sessions)
app.command("summarize")(summaries.summarize)
app.add_typer(projections.app, name="projections")
app.add_typer(keys.app, name="keys")
app.command("audit")(audit.audit)
app.command("erase")(erasure.erase)
app.command("redact")(erasure.redact)
app.command("verify")(integrity.verify)
app.command("digest")(integrity.digest)

__all__ = ["app"]
