"""One `Settings`, read from the environment in entry points only.

Every `CHATLEDGER_*` variable maps to a field (`CHATLEDGER_DATABASE_URL` to
`database_url`, …). `event_store_env()` turns the database URL into the
eventsourcing environment (`PERSISTENCE_MODULE`, `SQLITE_DBNAME`, `POSTGRES_*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import uuid4

from eventsourcing.utils import get_topic
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.persistence.mapper import OrjsonTranscoder, PydanticMapper
from adapters.persistence.postgres import ChatledgerPostgresRecorder
from adapters.persistence.sqlite import (
    CACHE_MIB,
    MMAP_MIB,
    ChatledgerSQLiteFactory,
    ChatledgerSQLiteRecorder,
)


class DatabaseURLError(ValueError):
    """A database URL this build cannot use."""


@dataclass(frozen=True)
class Database:
    """A parsed database URL."""

    backend: Literal["sqlite", "postgres"]
    sqlite_path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    name: str = ""
    schema: str = "public"

    def redacted(self) -> str:
        """The URL without its password, for messages and logs."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}?schema={self.schema}"


def redact(url: str) -> str:
    """`url` with any password replaced by `***`."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def parse_database_url(url: str) -> Database:
    """`sqlite:///PATH`, `sqlite:///:memory:`, `memory://` or `postgresql://USER@HOST:PORT/DB`.

    A PostgreSQL URL may add `?schema=NAME` (default `public`).
    """
    if url in ("memory://", "sqlite:///:memory:", "sqlite://"):
        # Shared-cache memory databases stay one database across pooled connections.
        return Database(
            "sqlite", sqlite_path=f"file:chatledger-{uuid4().hex}?mode=memory&cache=shared"
        )
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not url.startswith("sqlite:///") or path == "/":
            raise DatabaseURLError(f"expected sqlite:///PATH, got {redact(url)!r}")
        return Database("sqlite", sqlite_path=path[1:])
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = parse_qs(parts.query)
        name = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not name:
            raise DatabaseURLError(f"expected postgresql://USER@HOST:PORT/DB, got {redact(url)!r}")
        return Database(
            "postgres",
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            name=name,
            schema=query.get("schema", ["public"])[0],
        )
    raise DatabaseURLError(
        f"unsupported database URL {redact(url)!r} (use sqlite:/// or postgresql://)"
    )


def _env(name: str) -> AliasChoices:
    """A field read from the standard variable `name` (or `CHATLEDGER_<name>`)."""
    return AliasChoices(name, f"CHATLEDGER_{name}", name.lower())


class Settings(BaseSettings):
    """chatledger's configuration (environment variables `CHATLEDGER_*`)."""

    model_config = SettingsConfigDict(
        env_prefix="CHATLEDGER_", extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite:///chatledger.db"
    host: str = "127.0.0.1"
    port: int = 8321
    tenant_id: str = "local"
    """The tenant served when authentication is off (and the CLI's default tenant)."""
    actor: str = "local"
    """The principal recorded on events when no one is authenticated."""
    auth: Literal["auto", "required", "off"] = "auto"
    """API keys: `required`, `off` (loopback only), or `auto`: required once a key exists."""
    auth_max_failures: int = Field(default=20, ge=1)
    """Failed authentications one client address may make within `auth_failure_window`;
    beyond them it is answered 429 (with `Retry-After`) until the window has passed."""
    auth_failure_window: float = Field(default=60.0, gt=0)
    """Seconds over which failed authentications are counted."""
    secrets_dir: str = ".chatledger"
    """Where the master key (wrapping per-session data keys) and the digest signing key
    live, created with mode 0600 on first use. Keep it out of the database's backups."""
    master_key: str | None = None
    """The master key wrapping the data keys of session content (32 bytes, base64); when
    unset, `<secrets_dir>/master.key` (created on first use)."""
    projections: Literal["inline", "external"] = "inline"
    """`inline`: views are updated in the transaction that records events (read-your-writes).
    `external`: `chatledger projections run` workers update them; commands wait for them."""
    read_your_writes_timeout: float = 5.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_message_bytes: int = 1024 * 1024
    postgres_pool_size: int = 5
    postgres_max_overflow: int = 10
    sqlite_cache_mib: int = Field(default=CACHE_MIB, ge=0)
    """Page cache of each SQLite connection, MiB (SQLite's own default is 2): a long history
    read again comes from memory instead of the WAL file. Filled only as pages are read."""
    sqlite_mmap_mib: int = Field(default=MMAP_MIB, ge=0)
    """How much of the SQLite file is read through a memory map, MiB (0: none); address
    space, not memory: pages are shared with the OS cache rather than copied per connection."""

    default_provider: str = "offline"
    """`offline` (no network, no key), `scripted`, `openai`, `anthropic`, `gemini`, or an
    OpenAI-compatible server: `vllm`, `ollama`, `llama_cpp` (with `OPENAI_BASE_URL`)."""
    default_model: str | None = None
    """The model when neither the call nor the agent names one (else a per-provider default)."""
    scripted_replies: str | None = None
    """A JSON file of canned replies for the `scripted` provider."""
    openai_api_key: str | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL"))
    anthropic_api_key: str | None = Field(default=None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_BASE_URL")
    )
    gemini_api_key: str | None = Field(default=None, validation_alias=_env("GEMINI_API_KEY"))
    gemini_base_url: str | None = Field(default=None, validation_alias=_env("GEMINI_BASE_URL"))
    provider_timeout: float = 120.0
    """Seconds one model call (all its attempts) may take."""
    capture_message_content: str | None = Field(
        default=None,
        validation_alias=_env("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
    )
    max_tool_rounds: int = 5
    """Model calls a turn may make to run registered tools before it stops."""
    max_streams_per_tenant: int = Field(default=8, ge=0)
    """Streamed (SSE) chat turns one tenant may have open at once (0: no cap); 429 beyond."""
    max_batch_messages: int = Field(default=1000, ge=1)
    """Messages one request may append or send to a model at once; 413 beyond."""
    max_replay_sessions: int = Field(default=100, ge=1)
    """Sessions one `POST /v1/replays` may replay (each may call a model); 413 beyond."""
    template_timeout: float = Field(default=1.0, gt=0)
    """Seconds a situation or instructions template may take to render; 422 beyond."""
    template_max_output_chars: int = Field(default=100_000, ge=1)
    """Characters a template may render to (and the largest value it may build); 422 beyond."""

    def database(self) -> Database:
        return parse_database_url(self.database_url)

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing environment for this database."""
        db = self.database()
        env = {
            "MAPPER_TOPIC": get_topic(PydanticMapper),
            "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
            "MAX_MESSAGE_BYTES": str(self.max_message_bytes),
            "MAX_BATCH_MESSAGES": str(self.max_batch_messages),
        }
        if db.backend == "sqlite":
            env |= {
                "PERSISTENCE_MODULE": get_topic(ChatledgerSQLiteFactory),
                "SQLITE_DBNAME": db.sqlite_path,
                "SQLITE_CACHE_MIB": str(self.sqlite_cache_mib),
                "SQLITE_MMAP_MIB": str(self.sqlite_mmap_mib),
                "APPLICATION_RECORDER_TOPIC": get_topic(ChatledgerSQLiteRecorder),
            }
        else:
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": db.name,
                "POSTGRES_HOST": db.host,
                "POSTGRES_PORT": str(db.port),
                "POSTGRES_USER": db.user,
                "POSTGRES_PASSWORD": db.password,
                "POSTGRES_SCHEMA": db.schema,
                "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
                "APPLICATION_RECORDER_TOPIC": get_topic(ChatledgerPostgresRecorder),
            }
        return env
