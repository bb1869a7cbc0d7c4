"""The audit trail as records, NDJSON lines and CSV lines, streamed row by row.

One record shape serves the JSON API, NDJSON and CSV alike (times RFC 3339 in
UTC). CSV cells that a spreadsheet would run as a formula (starting with `=`,
`+`, `-`, `@`, a tab or a carriage return) are prefixed with `'` (OWASP's CSV
injection advice); NDJSON is left exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any, Literal

from projections.audit import AuditEntry

ExportFormat = Literal["ndjson", "csv"]

COLUMNS = (
    "position",
    "tenant_id",
    "stream_kind",
    "stream_id",
    "session_id",
    "version",
    "type",
    "actor",
    "recorded_at",
    "correlation_id",
    "causation_id",
    "trace_id",
)
"""The fields of a record, in order (the CSV header)."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    """An entry as plain JSON values, keyed by `COLUMNS`."""
    recorded_at = entry.recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "position": entry.position,
        "tenant_id": entry.tenant_id,
        "stream_kind": entry.stream_kind,
        "stream_id": entry.stream_id,
        "session_id": entry.session_id,
        "version": entry.version,
        "type": entry.type,
        "actor": entry.actor,
        "recorded_at": recorded_at,
        "correlation_id": entry.correlation_id,
        "causation_id": entry.causation_id,
        "trace_id": entry.trace_id,
    }


def ndjson_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """One JSON object per line."""
    for entry in entries:
        yield json.dumps(audit_record(entry), ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """A header line, then one line per entry (empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[Any]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for entry in entries:
        record = audit_record(entry)
        yield line(safe_cell(record[column]) for column in COLUMNS)


def safe_cell(value: Any) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_lines(entries: Iterable[AuditEntry], export_format: ExportFormat) -> Iterator[str]:
    """The entries in `export_format`, line by line."""
    return ndjson_lines(entries) if export_format == "ndjson" else csv_lines(entries)
