"""The composition root: settings in, a wired `Ledger` out.

Only this module (and the entry points through it) constructs concrete
adapters: the engine on its event store, the SQL views beside it, and the
projection runner, attached inline to the recorder unless workers run apart.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from adapters.ledger import Ledger
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.postgres import schema_lock
from adapters.persistence.sql_dialect import SQLITE, postgres_dialect
from adapters.persistence.sql_history import SqlHistoryView
from adapters.persistence.sql_session_list import SqlSessionListView
from adapters.persistence.sql_store import SqlViewStore
from adapters.settings import Database, Settings
from domain.engine import Engine
from projections.history import HistoryProjection
from projections.runner import ProjectionRunner
from projections.session_list import SessionListProjection


def open_ledger(settings: Settings | None = None, **overrides: Any) -> Ledger:
    """A ledger on the configured database (`Settings()` from the environment by default)."""
    settings = settings or Settings(**overrides)
    db = settings.database()
    with _creating_tables(db):
        return _wire(settings, db)


def _creating_tables(db: Database) -> AbstractContextManager[None]:
    if db.backend == "sqlite":
        return nullcontext()  # SQLite writers queue on the file's write lock
    return schema_lock(
        host=db.host,
        port=db.port,
        dbname=db.name,
        user=db.user,
        password=db.password,
        schema=db.schema,
    )


def _wire(settings: Settings, db: Database) -> Ledger:
    engine = Engine(env=settings.event_store_env())
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
