"""Liveness and readiness probes: `/healthz` and `/readyz`.

Liveness says the process answers. Readiness asks the database for each
projection's position against the head of the log; a database that cannot
answer makes the service not ready (503), and the error is reported, not raised.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from adapters.http.context import LedgerDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class ProjectionLag(BaseModel):
    """How far one projection is behind the head of the event log."""

    name: str
    position: int
    head: int
    lag: int


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: str
    """`ok`, or why the database could not be reached."""
    projections: list[ProjectionLag]


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database is unreachable"}},
    summary="Readiness: database and projection lag",
)
def readyz(ledger: LedgerDep, response: Response) -> Readiness:
    try:
        statuses = ledger.projection_status()
    except Exception as error:  # a probe reports any failure of the database as not ready
        log.warning("readiness check failed: %r", error)
        response.status_code = 503
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        database = f"{type(error).__name__}: {reason}" if reason else type(error).__name__
        return Readiness(status="not_ready", database=database[:300], projections=[])
    return Readiness(
        status="ready",
        database="ok",
        projections=[
            ProjectionLag(name=s.name, position=s.position, head=s.head, lag=s.lag)
            for s in statuses
        ],
    )
