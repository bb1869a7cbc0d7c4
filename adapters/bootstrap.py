"""The composition root: settings in, a wired `Ledger` out.

Only this module (and the entry points through it) constructs concrete
adapters: the engine on its event store, the SQL views beside it, and the
projection runner, attached inline to the recorder unless workers run apart.
"""

from __future__ import annotations

from typing import Any

from adapters.ledger import Ledger
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.sql_store import SqlViewStore
from adapters.persistence.sql_views import (
    SQLITE,
    SqlHistoryView,
    SqlSessionListView,
    postgres_dialect,
)
from adapters.settings import Settings
from domain.engine import Engine
from projections.history import HistoryProjection
from projections.runner import ProjectionRunner
from projections.session_list import SessionListProjection


def open_ledger(settings: Settings | None = None, **overrides: Any) -> Ledger:
    """A ledger on the configured database (`Settings()` from the environment by default)."""
    settings = settings or Settings(**overrides)
    engine = Engine(env=settings.event_store_env())
    db = settings.database()
    recorder: Any = engine.recorder
    if db.backend == "sqlite":
        dialect, events_table, id_column = SQLITE, "stored_events", "rowid"
    else:
        dialect = postgres_dialect(db.schema)
        events_table, id_column = dialect.table(recorder.events_table_name), "notification_id"
    names = [SessionListProjection.name, HistoryProjection.name]
    store = SqlViewStore(
        recorder.datastore,
        dialect,
        events_table=events_table,
        id_column=id_column,
        projection_names=names,
    )

    def read() -> Any:
        return store.transaction(commit=False)

    session_list = SqlSessionListView(dialect, read)
    history = SqlHistoryView(dialect, read)
    store.create_tables([*session_list.create_statements(), *history.create_statements()])
    runner = ProjectionRunner(
        engine, store, [SessionListProjection(session_list), HistoryProjection(history)]
    )
    inline = settings.projections == "inline"
    if inline:
        assert isinstance(recorder, InlineProjecting)
        runner.catch_up()
        recorder.inline = runner
    return Ledger(
        engine,
        runner,
        session_list,
        history,
        inline=inline,
        read_your_writes_timeout=settings.read_your_writes_timeout,
    )
