"""The composition root: settings in, a wired `Ledger` out.

Only this module (and the entry points through it) constructs concrete
adapters: the engine on its event store, the SQL views beside it, and the
projection runner, attached inline to the recorder unless workers run apart.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from adapters.chat import ChatService
from adapters.ledger import Ledger, Views
from adapters.llm.registry import ModelRegistry
from adapters.master_key import load_master_key
from adapters.persistence.inline import InlineProjecting
from adapters.persistence.key_store import KeyStore
from adapters.persistence.keyring import Keyring
from adapters.persistence.postgres import schema_lock
from adapters.persistence.sealing import Sealer
from adapters.persistence.sql_agent_list import SqlAgentListView
from adapters.persistence.sql_api_keys import SqlApiKeyView
from adapters.persistence.sql_audit import SqlAuditView
from adapters.persistence.sql_completions import SqlCompletionsView
from adapters.persistence.sql_dialect import SQLITE, postgres_dialect
from adapters.persistence.sql_history import SqlHistoryView
from adapters.persistence.sql_session_list import SqlSessionListView
from adapters.persistence.sql_store import SqlViewStore
from adapters.rendering import SandboxedRenderer
from adapters.settings import Database, Settings
from adapters.signing import SIGNING_KEY_FILE
from adapters.telemetry import Telemetry, configure_telemetry
from adapters.tools import ToolBox
from domain.engine import Engine
from projections.agent_list import AgentListProjection
from projections.api_keys import ApiKeyProjection
from projections.audit import AuditProjection
from projections.base import Projection
from projections.completions import CompletionsProjection
from projections.history import HistoryProjection
from projections.runner import ProjectionRunner
from projections.session_list import SessionListProjection


def open_ledger(
    settings: Settings | None = None, *, telemetry: Telemetry | None = None, **overrides: Any
) -> Ledger:
    """A ledger on the configured database (`Settings()` from the environment by default).

    Model calls are traced with `telemetry`'s providers; without it, with SDK providers
    that export nothing, so every recorded completion still carries real trace and span ids.
    """
    settings = settings or Settings(**overrides)
    db = settings.database()
    with _creating_tables(db):
        ledger = _wire(settings, db)
    ledger.chat_service = _chat_service(ledger, settings, telemetry)
    ledger.signing_key_path = Path(settings.secrets_dir) / SIGNING_KEY_FILE
    return ledger


def _chat_service(ledger: Ledger, settings: Settings, telemetry: Telemetry | None) -> ChatService:
    if telemetry is None:
        quiet = {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}
        if settings.capture_message_content:
            quiet["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = (
                settings.capture_message_content
            )
        telemetry = configure_telemetry(quiet)
    return ChatService(
        ledger,
        ModelRegistry(settings, instrument=telemetry.instrument),
        renderer=SandboxedRenderer(
            max_output_chars=settings.template_max_output_chars,
            max_seconds=settings.template_timeout,
        ),
        toolbox=ToolBox(),
        tracer_provider=telemetry.tracer_provider,
        max_tool_rounds=settings.max_tool_rounds,
    )


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

    def read() -> Any:
        return store.transaction(commit=False)

    def read_statement() -> Any:
        return store.statement()

    keys = KeyStore(dialect, read, load_master_key(settings.master_key, settings.secrets_dir))
    keyring = Keyring(keys)
    engine.mapper.sealer = Sealer(keyring)  # type: ignore[attr-defined]
    recorder.keyring = keyring

    views = Views(
        sessions=SqlSessionListView(dialect, read),
        history=SqlHistoryView(dialect, read, read_statement),
        agents=SqlAgentListView(dialect, read),
        completions=SqlCompletionsView(dialect, read),
        keys=SqlApiKeyView(dialect, read),
        audit=SqlAuditView(dialect, read),
    )
    projections: list[Projection[Any]] = [
        SessionListProjection(views.sessions),
        HistoryProjection(views.history),
        AgentListProjection(views.agents),
        CompletionsProjection(views.completions),
        ApiKeyProjection(views.keys),
        AuditProjection(views.audit),
    ]
    store = SqlViewStore(
        recorder.datastore,
        dialect,
        events_table=events_table,
        id_column=id_column,
        projection_names=[p.name for p in projections],
    )
    store.create_tables(
        [statement for view in [*views.all(), keys] for statement in view.create_statements()]
    )
    runner = ProjectionRunner(engine, store, projections)
    inline = settings.projections == "inline"
    if inline:
        assert isinstance(recorder, InlineProjecting)
        runner.catch_up()
        recorder.inline = runner
    return Ledger(
        engine,
        runner,
        views,
        inline=inline,
        read_your_writes_timeout=settings.read_your_writes_timeout,
    )
