"""`chatledger serve`, and the promise that `--json` prints what the HTTP API answers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import Result

from adapters.bootstrap import open_ledger
from adapters.cli import serve as serve_command
from adapters.http.app import create_app
from adapters.settings import Settings
from adapters.telemetry import Telemetry

Run = Callable[..., Result]
RunJson = Callable[..., Any]


def test_serve_runs_the_http_api_on_the_configured_loopback_address(
    chatledger: Run, chatledger_json: RunJson, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = chatledger_json("sessions", "create", "--title", "served")["id"]
    served: dict[str, Any] = {}

    async def title_served_by(app: FastAPI) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            title: str = (await client.get(f"/v1/sessions/{session_id}")).json()["title"]
            return title

    def run(app: FastAPI, *, host: str, port: int) -> None:
        # Stands in for the server loop: answer one request while the ledger is open.
        served["title"] = anyio.run(title_served_by, app)
        served["address"] = (host, port)

    def freeze() -> None:  # not in the test process: see the next test
        served["frozen before serving"] = "title" not in served

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(serve_command, "freeze_startup_objects", freeze)

    chatledger("serve", "--port", "18999", env={"CHATLEDGER_HOST": "localhost"})

    assert served == {
        "title": "served",
        "address": ("localhost", 18999),
        "frozen before serving": True,
    }


def test_start_up_objects_are_kept_out_of_later_garbage_collections() -> None:
    script = (
        "import gc\n"
        "from adapters.cli.serve import freeze_startup_objects\n"
        "assert gc.get_freeze_count() == 0\n"
        "freeze_startup_objects()\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    assert int(done.stdout) > 10_000  # the modules, classes and schemas loaded so far


@pytest.mark.anyio
async def test_the_json_output_is_what_the_http_api_answers(
    database_url: str, chatledger_json: RunJson
) -> None:
    session_id = chatledger_json(
        "sessions", "create", "--title", "Same", "--metadata", '{"team": "a"}'
    )["id"]
    chatledger_json("append", session_id, "hello")
    chatledger_json(
        "append", session_id, "--json-message", '{"role": "assistant", "content": "hi"}'
    )
    chatledger_json("sessions", "update", session_id, "--context", '{"lang": "pt"}')
    settings = Settings(database_url=database_url)
    ledger = open_ledger(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(ledger, settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:

            async def get(path: str) -> Any:
                response = await api.get(path)
                assert response.status_code == 200, response.text
                return response.json()

            base = f"/v1/sessions/{session_id}"
            pairs = [
                (chatledger_json("sessions", "list"), await get("/v1/sessions")),
                (chatledger_json("sessions", "show", session_id), await get(base)),
                (
                    chatledger_json("sessions", "show", session_id, "--messages"),
                    await get(f"{base}?include=messages"),
                ),
                (chatledger_json("history", session_id), await get(f"{base}/messages")),
                (chatledger_json("events", session_id), await get(f"{base}/events")),
                (
                    chatledger_json("show", session_id, "--version", "2"),
                    await get(f"{base}/state?version=2"),
                ),
            ]
    finally:
        ledger.close()

    for from_cli, from_api in pairs:
        assert from_cli == from_api


def test_serve_installs_its_telemetry_globally_and_shuts_it_down(
    chatledger: Run, global_providers: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutdowns: list[Telemetry] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: None)
    monkeypatch.setattr(Telemetry, "shutdown", lambda telemetry: shutdowns.append(telemetry))

    chatledger("serve", env={"OTEL_SERVICE_NAME": "ledger-under-test"})
    refused = chatledger("serve", env={"OTEL_METRICS_EXPORTER": "prometheus"}, exit_code=2)

    (telemetry,) = shutdowns
    assert global_providers == [telemetry.tracer_provider, telemetry.meter_provider]
    resource = telemetry.tracer_provider.resource.attributes
    assert resource["service.name"] == "ledger-under-test"
    assert refused.stderr.startswith("error: telemetry: OTEL_METRICS_EXPORTER='prometheus'")
