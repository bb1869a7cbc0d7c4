"""The JSON shapes of integrity: a verification report (the digest is `adapters.digest.Digest`).

The CLI prints the same shapes with `--json`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from adapters.integrity import Failure, VerifyReport

LISTED_FAILURES = 100
"""At most this many failures are listed (`failed_streams` counts them all)."""


class FailureOut(BaseModel):
    """The first bad event of one stream."""

    tenant_id: str | None = Field(description="The stream's tenant (null when unknown)")
    stream_id: str = Field(description="The session's (or other aggregate's) id")
    version: int | None = Field(description="The first bad version (null: unreadable)")
    reason: str

    @classmethod
    def of(cls, failure: Failure) -> FailureOut:
        return cls(
            tenant_id=failure.tenant_id,
            stream_id=failure.stream_id,
            version=failure.version,
            reason=failure.reason,
        )


class VerifyOut(BaseModel):
    """The verdict on the event log (or one tenant's part of it)."""

    intact: bool
    verdict: str = Field(description="One line: `intact: …`, or `tampered: ` and the first failure")
    tenant_id: str | None = Field(description="The tenant verified (null: all tenants)")
    streams: int = Field(description="Streams (sessions, agents, …) checked")
    events: int = Field(description="Events checked")
    seconds: float
    events_per_second: float
    digest_streams: int | None = Field(
        description="Streams checked against the digest given (null: no digest)"
    )
    failed_streams: int
    failures: list[FailureOut] = Field(
        description=f"The first bad event of each failed stream (at most {LISTED_FAILURES})"
    )

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyOut:
        return cls(
            intact=report.intact,
            verdict=report.verdict(),
            tenant_id=report.tenant_id,
            streams=report.streams,
            events=report.events,
            seconds=round(report.seconds, 6),
            events_per_second=round(report.events_per_second, 1),
            digest_streams=report.digest_streams,
            failed_streams=len(report.failures),
            failures=[FailureOut.of(f) for f in report.failures[:LISTED_FAILURES]],
        )
